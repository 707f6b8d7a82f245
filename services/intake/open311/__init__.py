"""Open311 GeoReport v2 at /open311/v2: how a city's other systems (the 12345 platform, 综治/网格 platforms,
FixMyStreet-style clients) file cases with intake and follow them, in the international standard's terms
(docs/interop.md).

- api.py: the endpoints (discovery, services, service definitions, POST/GET requests, a request, tokens,
  and mySociety's servicerequestupdates), each in .json and .xml;
- service_requests.py: filing through intake's own submission and reading what a key may read;
- access.py: API keys' scopes and areas (least privilege, no person ever shown);
- views.py, render.py: the specification's elements in JSON and XML; statuses.py: our statuses as Open311's
  and mySociety's; errors.py: every refusal as the specification's error list; config.py: data/open311.json.

`serve(app)` adds all this to intake's application (services/intake/service.py: `extend_app`), which in
services mode answers /open311 itself and in embedded mode receives it from the prefix dispatcher
(`also_serves`).
"""

from fastapi import FastAPI

from . import config, errors
from .api import ERROR_DOC, router

__all__ = ["router", "serve"]

# Statuses the shared layer documents for every operation that the Open311 endpoint never answers: a missing
# or bad key is 403 here (GeoReport v2), and input intake calls 422 is 400.
NEVER = ("401", "422")


def _documented(app: FastAPI) -> None:
    """The OpenAPI document as the Open311 endpoint answers: its refusals are the specification's error list
    (JSON or XML), not intake's error body; 413 stays the shared layer's (it answers before any endpoint)."""
    base = app.openapi

    def openapi() -> dict:
        schema = base()
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(errors.PREFIX):
                continue
            for op in operations.values():
                responses = op.get("responses", {})
                for code in NEVER:
                    responses.pop(code, None)
                for code, answer in responses.items():
                    if code.startswith(("4", "5")) and code != "413":
                        answer["content"] = ERROR_DOC
        return schema

    app.openapi = openapi


def serve(app: FastAPI) -> FastAPI:
    """Intake's application, answering Open311 GeoReport v2 at /open311/v2 too."""
    config.get()  # a broken open311.json stops the API at start-up, not at the first request
    app.include_router(router)
    errors.install(app)
    app.state.busy_answers = [*getattr(app.state, "busy_answers", ()), (errors.PREFIX, errors.busy)]
    _documented(app)
    return app
