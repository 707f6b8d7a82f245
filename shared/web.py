"""The FastAPI application every service is served by: prefix, docs, health, errors, request ids."""

import re
import socket
import uuid
from urllib.parse import urlparse

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from . import errors, metrics, tracing
from .admission import Admission
from .auth import Verifier
from .db import database_unavailable
from .http import AccessLog, BodyLimit, SecurityHeaders, document_errors
from .keys import jwks_source
from .ratelimit import Limiter
from .runtime import ServiceRuntime

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)


class RequestIdMiddleware:
    """Gives every request an X-Request-ID (the client's, or a new one) and echoes it back.

    The id becomes the correlation_id of every event the request causes, and is on every log line
    the request writes (shared/tracing.py), with the service answering it.
    """

    def __init__(self, app, service: str | None = None):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1").strip()
                break
        # The client's id is kept only when it looks like an id: it is written on every log line and in the
        # event log, so arbitrary text (or a colleague's id, merging two traces by accident) stays out.
        if not REQUEST_ID.fullmatch(rid):
            rid = str(uuid.uuid4())
        # One header, the one we echo: the correlation id of the events is exactly what the client sees.
        headers = [(n, v) for n, v in scope["headers"] if n != b"x-request-id"]
        scope = dict(scope, headers=[*headers, (b"x-request-id", rid.encode("latin-1"))])

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        with tracing.context(service=self.service, role="api", request_id=rid, correlation_id=rid):
            await self.app(scope, receive, send_with_id)


def model_answer(model: BaseModel, response: Response, status_code: int) -> Response:
    """`model` as the answer, with the status (`status_code` unless the endpoint set another on `response`)
    and headers the endpoint set: the JSON FastAPI would send for it under the route's response_model, which
    still documents it. Without this FastAPI validates the model it already is once more (for a plain `def`
    endpoint in a thread hop of its own) before serialising it: the hot path's answer (issue 15)."""
    answer = Response(model.model_dump_json(by_alias=True), status_code=response.status_code or status_code,
                      media_type="application/json")
    answer.headers.raw.extend(response.headers.raw)
    return answer


def correlation_id(request: Request) -> str:
    return request.headers["x-request-id"]


errors.register_messages({"service.database_unavailable": (
    "服务暂时不可用（数据库连接中断），请稍后重试",
    "The service's database cannot be reached right now; try again shortly")})


def install_database_unavailable(app: FastAPI) -> None:
    """A request that meets its database away (restarting, failing over, the connection cut) answers
    503 service.database_unavailable with Retry-After at once, not a 500: nothing of it was committed
    (or, if the COMMIT's answer was what got lost, a retry with the same Idempotency-Key finds it),
    and the pool has already retired its dead connections, so the retry gets a fresh one."""

    async def _unavailable(request: Request, exc: DBAPIError):
        if not database_unavailable(exc):
            raise exc  # a statement's own fault stays a 500, for the logs and the alert
        return JSONResponse(errors.error_body("service.database_unavailable", errors.wants_english(request)),
                            status_code=503, headers={"Retry-After": "1"})

    app.add_exception_handler(DBAPIError, _unavailable)


def amqp_reachable(url: str, timeout: float = 2.0) -> bool:
    """Speak the first bytes of AMQP 0-9-1 without importing pika: the broker answers Connection.Start."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            s.settimeout(timeout)
            frame = s.recv(7)
            return len(frame) == 7 and frame[0] == 1  # a method frame
    except OSError:
        return False


def add_metrics_route(app: FastAPI, path: str, settings) -> None:
    """GET `path`: the process's Prometheus metrics, without a token but only for loopback and
    `settings.metrics_allowed_clients` (404 for anybody else), and outside the OpenAPI document."""

    @app.get(path, include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        client = request.client.host if request.client else None
        if not metrics.allowed(client, settings.metrics_allowed_clients):
            return JSONResponse(errors.error_body("not_found", False), status_code=404)
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)


def create_app(rt: ServiceRuntime, *, title: str, description: str, router: APIRouter,
               verifier=None) -> FastAPI:
    """The service's application: its module-level `router` (endpoints reach the runtime through
    `shared.deps`), under the service's prefix, with health checks, errors and request ids."""
    prefix = f"/{rt.name}"
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        openapi_url=f"{prefix}/openapi.json",
    )
    app.state.settings = rt.settings
    app.state.runtime = rt
    if verifier is None:  # an application without a service's revocation tables (tools, tests)
        verifier = Verifier(rt.settings, jwks_source(rt.settings), None)
    app.state.verifier = verifier
    app.state.limiter = Limiter(rt.settings)
    errors.install(app)
    install_database_unavailable(app)
    document_errors(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, default=rt.settings.max_body_bytes, limits=rt.settings.body_limits)
    # Outside the body's reading (a refusal reads nothing), inside the request id and the access log.
    app.add_middleware(Admission, limit=rt.settings.admission_limit,
                       retry_after=rt.settings.admission_retry_after_seconds, service=rt.name)
    app.add_middleware(AccessLog, service=rt.name)
    app.add_middleware(RequestIdMiddleware, service=rt.name)

    health = APIRouter(prefix=prefix, tags=["运维 health"])

    @health.get("/healthz", summary="存活检查 liveness")
    def healthz():
        return {"status": "ok", "service": rt.name}

    @health.get("/readyz", summary="就绪检查 readiness: the service's database")
    def readyz():
        """Ready when the API can do its job: its database answers and it holds the keys tokens are verified
        with (read from identity once: until then every signed-in request would be a 503, and the first
        ones would wait for the fetch). Not identity after that (the keys read still verify), nor the broker:
        while RabbitMQ is down the API still accepts work, and its outbox keeps the events until the worker's
        relay can publish them, so a load balancer must not take it offline then. The broker is part of
        the worker's readiness (shared/worker.py)."""
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks = {"database": "ok"}
        except Exception as exc:
            checks = {"database": f"unreachable: {type(exc).__name__}"}
        checks["token_keys"] = "ok" if app.state.verifier.jwks.ready() else "not yet read from identity"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "service": rt.name,
                             "checks": checks}, status_code=200 if ready else 503)

    app.include_router(health)
    add_metrics_route(app, f"{prefix}/metrics", rt.settings)
    metrics.watch_outbox(rt)
    app.include_router(router, prefix=prefix)
    if tracing.log_of(rt.outbox.table) is not None:  # a service keeping an event log answers its trace
        from . import trace_api

        trace_api.register(rt)
        app.include_router(trace_api.router, prefix=f"{prefix}/v1")
    if rt.audit is not None:  # every service's trail, read the same way; every refusal an entry of it
        from .audit_api import record_refusals
        from .audit_api import router as audit_router

        app.include_router(audit_router, prefix=f"{prefix}/v1")
        record_refusals(app)
    return app
