"""Notify's OpenAPI document fuzzed (issue 11): no server error, no status the document does not
list, for a privileged and an ordinary role (bounded: a few seconds)."""

import socket

from tests.fuzz import fuzz
from tests.loopback import served as on_the_wire

from .conftest import auth

EXAMPLES = 15


def test_no_server_error_and_no_undocumented_status_for_an_admin_and_a_resident(rt, client):
    # Names resolve to nothing here (conftest.no_dns): a fuzzed webhook URL never reaches a DNS server.
    principals = {"admin": auth(rt, "u-admin-1", "admin", "510107000000000"),
                  "resident": auth(rt, "u-resident-1", phone="13800000001")}
    failures = []
    for name, headers in principals.items():
        found = fuzz(client.app, "/notify/openapi.json", headers_for=lambda op, h=headers: h, examples=EXAMPLES)
        failures += [f"{name}: {f}" for f in found]
    assert failures == []


def raw_status(port: int, method: str, path: str, header: bytes) -> int:
    """The status of a request whose one header holds bytes no HTTP parser accepts (sent as is)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(method.upper().encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: notify\r\n" + header
                     + b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        first = conn.recv(200).split(b"\r\n", 1)[0]
    return int(first.split()[1])


def test_a_header_parameter_no_http_parser_accepts_gets_a_status_the_document_lists(client):
    """Schemathesis calls the application in-process and only generates header values HTTP can
    carry, so it never sees what the HTTP server itself answers to one it cannot parse (uvicorn's
    plain 400, before the application). Every header parameter is sent such a value on the wire."""
    document = client.get("/notify/openapi.json").json()
    undocumented, tried = [], 0
    with on_the_wire(client.app) as port:
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] != "header":
                        continue
                    url = path.replace("{", "").replace("}", "")
                    status = raw_status(port, method, url, parameter["name"].encode() + b": a\x01b")
                    tried += 1
                    if str(status) not in operation["responses"]:
                        undocumented.append(f"{method.upper()} {path} ({parameter['name']}): {status}")
    assert tried and undocumented == []
