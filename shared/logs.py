"""Logging for every process: one format, the chatty libraries quiet, secrets redacted.

Client libraries log whole URLs at INFO (httpx: "HTTP Request: GET https://…?secret=…"); a
provider's credentials or a one-time code in a query string must never reach a log file, so those
loggers stay at WARNING and every line passes a filter that blanks known secret parameters.
"""

import logging
import re

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


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
