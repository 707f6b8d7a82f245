"""No secret reaches a log line: client libraries that log URLs stay quiet, and known secret
parameters are blanked in every line that still goes out."""

import io
import logging

import httpx
import pytest

from shared import logs
from tests.loopback import LoopbackServer


class Echo(LoopbackServer):
    def handle(self, method, path, headers, body):
        return 200, {"ok": True}


@pytest.fixture
def captured():
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in logs.QUIET}
    old = root.level
    logs.configure()
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_a_providers_secret_in_a_url_never_reaches_the_log(captured):
    with Echo() as server:
        httpx.get(f"{server.url}/sns/jscode2session?appid=wx1&secret=the-app-secret&js_code=0123wxcode")
    logging.getLogger("services.identity").warning(
        "code2session failed for %s", f"{server.url}/sns/jscode2session?secret=the-app-secret&js_code=0123wxcode")
    text = captured.getvalue()
    assert "code2session failed" in text  # the line is kept ...
    assert "the-app-secret" not in text and "0123wxcode" not in text  # ... its secrets are not
    assert "secret=***" in text


def test_redaction_keeps_what_is_not_a_secret():
    assert logs.redact("GET /x?appid=wx1&secret=s3&page=2 client_secret=abc password=p") == \
        "GET /x?appid=wx1&secret=***&page=2 client_secret=*** password=***"
