"""GeoReport v2's two formats, from one structure: JSON as the specification's examples (the root element
dropped: a list of services, of requests, of errors), and XML with the specification's element names and
nesting (`<services><service>…`, `<service_requests><request>…`, `<errors><error>…`), both UTF-8 and
declared so (`application/json; charset=utf-8`, `text/xml; charset=utf-8` with the XML declaration).

A value is a str, a number, a bool (`true`/`false` in XML), None (an empty element, `null` in JSON), a
dict (child elements in its order, which is the specification's) or a list (one child element per item,
named as the specification names the items of that list: `GROUP`).
"""

import json
import re
from datetime import datetime
from typing import Literal
from xml.etree import ElementTree as ET

from fastapi import Request, Response

from shared.config import local_zone

Fmt = Literal["json", "xml"]
FORMATS: tuple[str, ...] = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# A list's element name → the name of each of its items (the specification's nesting).
GROUP = {"services": "service", "attributes": "attribute", "values": "value", "service_requests": "request",
         "errors": "error", "service_requests_updates": "request_update", "endpoints": "endpoint",
         "formats": "format"}
# Characters XML 1.0 cannot carry at all (control characters but tab, newline and carriage return): a text a
# person typed may hold one, and the document must stay well-formed.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def w3c(at: datetime | None) -> str | None:
    """ISO 8601 as the W3C note, to the second, with the deployment's offset: 2026-11-05T08:15:30+08:00."""
    if at is None:
        return None
    return at.astimezone(local_zone()).replace(microsecond=0).isoformat()


def fmt_of(request: Request) -> Fmt:
    """The format a request asked for by its path's extension (an error answers in it too); XML, the
    specification's required format, when the path says neither."""
    return fmt_of_path(request.url.path)


def fmt_of_path(path: str) -> Fmt:
    return "json" if path.endswith(".json") else "xml"


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(parent: ET.Element, name: str, value) -> None:
    node = ET.SubElement(parent, name)
    _fill(node, name, value)


def _fill(node: ET.Element, name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _element(node, GROUP[name], item)
    else:
        node.text = _text(value)


def xml_document(root: str, data) -> bytes:
    node = ET.Element(root)
    _fill(node, root, data)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(node, encoding="unicode").encode("utf-8")


def json_document(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def respond(fmt: Fmt, root: str, data, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The answer in the asked format: `root` is the XML root element (`services`, `service_requests` …)."""
    body = json_document(data) if fmt == "json" else xml_document(root, data)
    return Response(body, status_code=status, media_type=CONTENT_TYPES[fmt], headers=headers)


def errors(fmt: Fmt, status: int, problems: list[str], headers: dict[str, str] | None = None) -> Response:
    """The specification's error answer: a list of {code, description}, the code being the HTTP status."""
    return respond(fmt, "errors", [{"code": status, "description": text} for text in problems], status, headers)
