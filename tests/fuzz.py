"""Every service's OpenAPI document fuzzed with schemathesis (bounded, so `make test` stays fast):
no answer is a server error, and every status answered is one the document lists.

    failures = fuzz(app, "/routing/openapi.json", headers_for=lambda op: admin)
    assert failures == []

Each operation gets `examples` generated requests; `headers_for(operation)` gives the credentials to
send (a token of a role that reaches it), so the fuzzing goes past authentication into the endpoint.
"""

from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance]


def fuzz(app, openapi_path: str, *, headers_for: Callable[[object], dict] = lambda op: {},
         examples: int = 15, skip: Callable[[object], bool] = lambda op: False) -> list[str]:
    """The failures found, one line each ("METHOD /path: what"); an empty list when none."""
    schema = schemathesis.openapi.from_asgi(openapi_path, app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if skip(operation):
            continue
        try:
            _examine(operation, headers_for(operation), examples)
        except (Exception, BaseExceptionGroup) as exc:  # failed checks (or a crash): one line per operation
            failures.append(f"{operation.method.upper()} {operation.path}: {_summary(exc)}")
    return failures


def _examine(operation, headers: dict, examples: int) -> None:
    @given(case=operation.as_strategy())
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    run()


def _summary(exc: BaseException) -> str:
    parts = []
    for failure in getattr(exc, "exceptions", None) or [exc]:
        text = str(failure).strip()
        received = next((line.strip() for line in text.splitlines() if line.strip().startswith("Received")), "")
        parts.append(f"{type(failure).__name__} {text.splitlines()[0] if text else ''} {received}".strip())
    return "; ".join(parts)
