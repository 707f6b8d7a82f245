"""Admission control: at most `limit` requests in flight in one API process; the next is refused at once.

Why: in a surge (a burst water main, a storm) residents report faster than the workers drain. Without a
bound every request is taken, waits in uvicorn's thread pool behind all the others and is answered after
12 s, or its connection is reset, so nobody learns anything and the clients retry into the queue. With a
bound, what the process can do in time it does at its normal speed, and the rest is told within a
millisecond: 503 `service.busy` with `Retry-After`, so a client backs off and tries again. A refused
request never reached an endpoint, so it changed nothing.

The counter lives on the event loop (ASGI middleware, one thread): no lock. Health, readiness and metrics
are never refused: a load balancer must not take a busy process out of rotation, nor Prometheus lose sight
of it while it is busiest. Each process counts its own requests (several processes behind one port each
have their own bound: `CG_ADMISSION_LIMIT` is per process).
"""

import json

from . import metrics
from .errors import error_body, register_messages

register_messages({"service.busy": ("系统繁忙，请稍后重试", "The service is busy: try again in a moment")})

# Paths never refused (their endings: every service serves them under its own prefix).
EXEMPT = ("/healthz", "/readyz", "/metrics")
# app.state.busy_answers: [(path prefix, answer)], a refusal under the prefix answered by
# `answer(scope, english, retry_after)` (an ASGI response) instead of our error body: for a protocol with an
# error format of its own (Open311 GeoReport's error list, services/intake/open311).
ANSWERS = "busy_answers"


class Admission:
    """ASGI middleware: `limit` requests in flight at most (0: no bound); beyond it 503 `service.busy`
    with `Retry-After: retry_after` seconds, answered without reading the body."""

    def __init__(self, app, limit: int, retry_after: int, service: str = ""):
        self.app, self.limit, self.retry_after, self.service = app, limit, retry_after, service
        self.in_flight = 0
        self.refused = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.limit <= 0 or scope.get("path", "").endswith(EXEMPT):
            return await self.app(scope, receive, send)
        if self.in_flight >= self.limit:
            self.refused += 1
            metrics.REFUSED.labels(self.service).inc()
            return await self._busy(scope, send)
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _busy(self, scope, send) -> None:
        english = any(n == b"accept-language" and v.lower().startswith(b"en") for n, v in scope["headers"])
        app = scope.get("app")
        for prefix, answer in getattr(getattr(app, "state", None), ANSWERS, ()):
            if scope.get("path", "").startswith(prefix):
                return await answer(scope, english, self.retry_after)(scope, _nothing, send)
        # Serialised as every other answer (starlette's JSONResponse): one shape for a client to parse.
        body = json.dumps(error_body("service.busy", english), ensure_ascii=False, separators=(",", ":")).encode()
        # The connection stays open: a client that retries after Retry-After reuses it.
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(self.retry_after).encode()), (b"cache-control", b"no-store"),
                                (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": body})


async def _nothing() -> dict:
    # A refusal reads no body; a response that asks gets the end of it.
    return {"type": "http.disconnect"}
