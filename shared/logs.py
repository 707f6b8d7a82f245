"""Logging for every process: one format per mode, the chatty libraries quiet, secrets redacted.

Services mode writes one JSON object per line (python-json-logger: a formatter for the standard
`logging` every module and uvicorn already use, so nothing else changes, unlike structlog, which
would want its own loggers and a bridge for the rest); embedded mode, run by a developer or a small
deployment on one machine, writes readable lines. Every line carries the service and the process
role (api / worker), the level, the logger and the message, and, when the code runs for a request or
a message, the request id, correlation id, event id and type and handler (shared/tracing.py). uvicorn
is started without a logging configuration of its own (`log_config=None`), so its lines take the
same path.

Client libraries log whole URLs at INFO (httpx: "HTTP Request: GET https://…?secret=…"); a
provider's credentials or a one-time code in a query string must never reach a log file, so those
loggers stay at WARNING and every line passes a filter that blanks known secret parameters.
"""

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from . import tracing

QUIET = ("pika", "alembic", "httpx", "httpcore", "urllib3")
SECRET_PARAMS = re.compile(
    r"(?i)\b(secret|client_secret|appsecret|js_code|code|code_verifier|password|access_token|refresh_token|"
    r"id_token|token|api_key|signature|accesskeysecret)=([^&\s\"']+)")


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _CleanTracebacks:
    """A traceback repeats what the exception said (an httpx error names its whole URL, query and all):
    blanked as the message is, by both formatters."""

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))


class TraceFields(logging.Filter):
    """Puts the ids of what runs now (shared.tracing.fields) on the record, as attributes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in tracing.fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonLines(_CleanTracebacks, JsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, then the trace fields
    present, and the traceback of an exception."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s %(message)s", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False)


class Readable(_CleanTracebacks, logging.Formatter):
    """`time LEVEL logger [service role cid=… event=… handler=…]: message`, the brackets only when known."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(trace)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [getattr(record, k) for k in ("service", "role") if getattr(record, k, None)]
        cid, rid = getattr(record, "correlation_id", None), getattr(record, "request_id", None)
        if rid and rid != cid:
            parts.append(f"rid={rid}")
        for label, key in (("cid", "correlation_id"), ("event", "event_id"), ("type", "event_type"),
                           ("handler", "handler")):
            value = getattr(record, key, None)
            if value:
                parts.append(f"{label}={value}")
        record.trace = f" [{' '.join(parts)}]" if parts else ""
        record.exc_text = None  # another handler may have cached the traceback uncleaned: format it anew
        return super().format(record)


def formatter(mode: str) -> logging.Formatter:
    return JsonLines() if mode == "services" else Readable()


def prepare(handler: logging.Handler) -> logging.Handler:
    """The filters every handler of a process has: the trace fields, then the redaction of secrets."""
    if not any(isinstance(f, TraceFields) for f in handler.filters):
        handler.addFilter(TraceFields())
    if not any(isinstance(f, RedactSecrets) for f in handler.filters):
        handler.addFilter(RedactSecrets())
    return handler


def configure(level: int = logging.INFO, *, mode: str | None = None, service: str | None = None,
              role: str | None = None) -> None:
    """The process's logging: `mode` (default: the settings') picks JSON lines or readable ones;
    `service` and `role` name the process on every line (embedded mode: each line's context does).
    A process whose root logger already has handlers (a test's) keeps their format and gets the filters."""
    if mode is None:
        from .config import get_settings

        mode = get_settings().mode
    tracing.set_process(service=service, role=role)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter(mode))
        root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in root.handlers:
        prepare(handler)
