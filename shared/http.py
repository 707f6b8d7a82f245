"""What every service's HTTP layer does before and after an endpoint: bodies bounded while they
stream in, security headers on every answer, one access log line per request, and error statuses
written into the OpenAPI document the way the service really answers (the documents are a user
interface)."""

import json
import logging
import time

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import replace_params

from . import metrics
from .admission import EXEMPT
from .errors import error_body

# Methods whose body BodyLimit does not read (nor limit): every other one may be answered 413.
UNLIMITED = ("GET", "HEAD", "OPTIONS", "DELETE")


class BodyLimit:
    """413 `request.too_large` for a body over the limit of its path, decided while it arrives: a
    body without Content-Length (or lying about it) is read only up to the limit, never whole."""

    def __init__(self, app, default: int, limits: dict[str, int]):
        self.app, self.default = app, default
        # Longest prefix first: /intake/v1/attachments before /intake.
        self.limits = sorted(limits.items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope.get("method") in UNLIMITED:
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(scope, send)
        # Read the body here, up to the limit, then hand it on: the application's own reading
        # (which turns any error into a 400) never sees more than the limit.
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            seen += len(message.get("body", b""))
            if seen > limit:
                return await _too_large(scope, send)
            chunks.append(message)
            if not message.get("more_body", False):
                break
        replay = iter(chunks)

        async def replayed():
            message = next(replay, None)
            return message if message is not None else await receive()

        await self.app(scope, replayed, send)


async def _too_large(scope, send) -> None:
    await _refuse(scope, send, 413, "request.too_large")


async def _refuse(scope, send, status: int, code: str) -> None:
    english = any(n == b"accept-language" and v.lower().startswith(b"en") for n, v in scope["headers"])
    body = json.dumps(error_body(code, english), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """nosniff and no-referrer on everything; no-store unless the endpoint chose its caching (its
    answers carry personal data: no proxy or browser cache may keep them)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {n.lower() for n, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


access_log = logging.getLogger("shared.access")


def route_template(scope) -> str | None:
    """The full template of the route a request matched (`/routing/v1/work-orders/{order_id}`), or
    None. Newer FastAPI versions keep included routers nested, so the matched route's own `path`
    may lack the prefixes before it: they are recovered from the raw path, which ends with the
    route's template filled in with the request's parameters."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template is None:
        return None
    path = scope.get("path") or ""
    try:
        filled, _ = replace_params(template, route.param_convertors, dict(scope.get("path_params") or {}))
    except (AttributeError, KeyError, TypeError, ValueError):
        return template
    return path[: len(path) - len(filled)] + template if path.endswith(filled) else template


class AccessLog:
    """One structured line per request, in both modes (logger `shared.access`, message `access {json}`):
    the service, the method, the route's template (`/intake/v1/cases/{case_id}`, never the raw path
    when a route matched), the status, the duration in ms, who asked (`user`, or `key` for an API key)
    and from where, and the request id. Never the query string, the body or the headers: they may
    hold phones, codes and tokens. A resident whose request concealed her (her own anonymous or
    confidential case: shared.uow.UnitOfWork.conceal_actor, or a refusal concerning it) is named
    "anon", without her address, so the log cannot tie her to the trail's entries by the request id.
    Runs inside RequestIdMiddleware (it reads the id) and outside everything else."""

    def __init__(self, app, service: str):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), None

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            status = status or 500
            raise
        finally:
            line = self.line(scope, status, started)
            # The same request in the metrics: its route's template, never the raw path.
            metrics.observe_request(self.service, line["route"], line["method"], line["status"],
                                    time.perf_counter() - started)
            access_log.info("access %s", json.dumps(line, ensure_ascii=False, separators=(",", ":")))

    def line(self, scope, status: int | None, started: float) -> dict:
        state = scope.get("state") or {}
        get = state.get if isinstance(state, dict) else (lambda name: getattr(state, name, None))
        who, concealed = get("principal"), get("audit_actor")
        route = route_template(scope)
        line = {"service": self.service, "method": scope.get("method"), "route": route, "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1)}
        if concealed is not None:
            line["user"] = concealed.id
        elif who is not None and hasattr(who, "key_id"):
            line["key"] = who.key_id
        elif who is not None:
            line["user"] = who.id
        rid = next((v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"x-request-id"), None)
        line["request_id"] = rid
        client = scope.get("client")
        if concealed is None and client:
            line["client"] = client[0]
        return line


ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "稳定的错误代码 a stable code, e.g. case.not_found"},
        "message": {"type": "string", "description": "中文说明（Accept-Language: en 时为英文）the message"},
        "field": {"type": ["string", "null"], "description": "出错的字段 the field at fault"},
        "detail": {"type": "string", "description": "补充说明 more detail"},
        "errors": {"type": "array", "description": "全部校验错误 every validation problem",
                   "items": {"type": "object"}}}}},
}
STANDARD = {
    "401": "未登录、令牌无效或已吊销 not signed in, or the token is invalid or revoked",
    "413": "请求内容过大 the body is too large",
    "422": "输入不合法：错误代码、说明和字段 invalid input, with the code, a message and the field",
    "429": "操作过于频繁（见 Retry-After）too many requests (see Retry-After)",
    "503": "系统繁忙（service.busy）或依赖的服务暂时不可用，未作任何改动，请按 Retry-After 稍后重试 "
           "busy, or a service it needs cannot be reached: nothing was changed, retry after Retry-After",
}
RETRY_AFTER = {"Retry-After": {"description": "建议重试前等待的秒数 seconds to wait before retrying",
                               "schema": {"type": "integer"}}}

WWW_AUTHENTICATE = {"WWW-Authenticate": {
    "description": "以访问令牌登录时：Bearer，令牌无效时带 error=\"invalid_token\"（RFC 6750）"
                   "for a bearer token: how to authenticate", "schema": {"type": "string"}}}


def document_errors(app: FastAPI) -> None:
    """Every operation's error answers in the OpenAPI document: what the shared layer may answer
    (401 when it needs a token, 413 when BodyLimit reads its body, 422 when it takes input, 429 when it is
    rate-limited, 503 always: the admission bound, the database or identity away), plus what the endpoint
    declares itself (403, 404, 409 …), each with the one error body every service uses."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        # A route's own path is the end of its OpenAPI path (the service's prefix comes before it).
        limited = [(r.path, m.lower()) for r in _api_routes(app.router.routes) if _rate_limited(r)
                   for m in r.methods]
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                # Health, readiness and metrics are never refused (shared/admission.py) and say their own.
                wanted = set() if path.endswith(EXEMPT) else {"503"}
                if op.get("security"):
                    wanted.add("401")
                if op.get("parameters") or op.get("requestBody"):
                    wanted.add("422")
                # A body over the limit is refused before the endpoint runs, whether it declares a body or
                # not (sign, close: a client may still send one).
                if op.get("requestBody") or method.upper() not in UNLIMITED:
                    wanted.add("413")
                if any(method == m and path.endswith(own) for own, m in limited):
                    wanted.add("429")
                responses = op.setdefault("responses", {})
                for code in wanted:
                    responses.setdefault(code, {"description": STANDARD[code]})
                for code in ("429", "503"):
                    if code in responses:
                        responses[code].setdefault("headers", RETRY_AFTER)
                if "401" in responses:
                    responses["401"].setdefault("headers", WWW_AUTHENTICATE)
                for code, answer in responses.items():
                    if code.startswith(("4", "5")):
                        answer["content"] = {"application/json": {"schema": ref}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _api_routes(routes) -> list:
    """Every endpoint route, including those of included routers (which FastAPI keeps nested)."""
    found = []
    for route in routes:
        if hasattr(route, "dependant"):
            found.append(route)
        nested = getattr(getattr(route, "original_router", None), "routes", None)
        if nested is not None:
            found.extend(_api_routes(nested))
    return found


def _rate_limited(route) -> bool:
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant else []
    while stack:
        dep = stack.pop()
        if getattr(dep.call, "__module__", "") == "shared.ratelimit":
            return True
        stack.extend(dep.dependencies)
    return False
