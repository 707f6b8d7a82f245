"""The Open311 endpoint's error codes (code → Chinese, English), and how any refusal of a request under
/open311 is answered: the specification's errors (a list of code + description, the code being the HTTP
status) in the format the path asked for, never intake's JSON error body.

The answer is decided by the app's exception handlers (`install`), after the request's unit of work
rolled back: a refused request changes nothing, as everywhere else. GeoReport v2 knows 400 (bad input),
403 (a missing or invalid api_key) and 404 (no such service or request); so intake's 422 is 400 here and a
401 (no key, a bad key) is 403. Statuses outside the specification are kept where a client must act on
them: 409 (an Idempotency-Key reused for another request), 429 (over a rate limit, with Retry-After), 503
(the process is at its admission bound, or the database is away: with Retry-After, nothing written).
A 403 or 404 answered to a key is an entry of intake's audit trail (`refused.<code>`), as for a person.
"""

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import audit
from shared.db import database_unavailable
from shared.deps import request_actor
from shared.errors import ApiError, message, register_messages, wants_english
from shared.http import route_template

from . import render

log = logging.getLogger(__name__)
PREFIX = "/open311/"

register_messages({
    "open311.format": ("格式只能是 json 或 xml（如 services.json、services.xml）",
                       "The format is json or xml (services.json, services.xml)"),
    "open311.jurisdiction_unknown": ("jurisdiction_id 不是本接口服务的辖区", "jurisdiction_id provided was not found"),
    "open311.api_key_required": ("需要 API 密钥：api_key 参数或 X-API-Key 请求头",
                                 "An api_key is required (the api_key parameter or the X-API-Key header)"),
    "open311.api_key_invalid": ("API 密钥无效、已过期或已吊销", "Invalid api_key: unknown, expired or revoked"),
    "open311.scope": ("该 API 密钥无权执行此操作（缺少相应的权限范围）",
                      "The api_key does not allow this (it lacks the scope)"),
    "open311.service_not_found": ("没有这个 service_code（类别）", "service_code provided was not found"),
    "open311.request_not_found": ("没有这个诉求，或它不在该密钥可读的范围内",
                                  "service_request_id provided was not found"),
    "open311.token_not_found": ("没有这个 token（本接口的 token 是提交时所带的 Idempotency-Key）",
                                "token provided was not found (here a token is the Idempotency-Key of a POST)"),
    "open311.form_required": ("请求体须为 application/x-www-form-urlencoded（UTF-8）",
                              "The body must be application/x-www-form-urlencoded (UTF-8)"),
    "open311.repeated_field": ("该字段只能出现一次", "This field may appear once"),
    "open311.service_code_required": ("缺少 service_code", "service_code is required"),
    "open311.location_required": ("须提供 lat 和 long（WGS-84），或 address_string",
                                  "lat and long (WGS-84), or address_string, are required"),
    "open311.address_id_unsupported": ("本接口不使用 address_id，请提供 lat/long 或 address_string",
                                       "address_id is not used here: send lat/long or address_string"),
    "open311.bad_number": ("须为有限的数字", "Must be a finite number"),
    "open311.bad_boolean": ("须为 true 或 false", "Must be true or false"),
    "open311.bad_datetime": ("时间须为带时区的 ISO 8601（W3C）格式，如 2026-11-05T08:15:30+08:00",
                             "A date must be W3C ISO 8601 with its offset, e.g. 2026-11-05T08:15:30+08:00"),
    "open311.date_range": ("start_date 须不晚于 end_date，且时间跨度不超过规定天数",
                           "start_date must not be after end_date, nor the range longer than allowed"),
    "open311.bad_status": ("status 只能是 open、closed，或以逗号分隔的两者",
                           "status is open, closed, or both comma-delimited"),
    "open311.too_many_ids": ("service_request_id 列出的诉求过多", "Too many service_request_id values"),
})

# Intake's field names as the specification calls them, in the descriptions of refusals.
FIELDS = {"category": "service_code", "lon": "long", "address": "address_string", "caller_phone": "phone",
          "answers": "attribute"}
STATUS = {422: 400, 401: 403}
# pydantic's error types (by prefix) → the stable codes of shared/errors.py
_VALIDATION = (("missing", "validation.missing"), ("string_too_long", "validation.too_long"),
               ("too_long", "validation.too_long"), ("string_too_short", "validation.too_short"),
               ("too_short", "validation.too_short"), ("greater", "validation.out_of_range"),
               ("less", "validation.out_of_range"), ("finite", "validation.out_of_range"),
               ("literal", "validation.not_allowed"), ("enum", "validation.not_allowed"),
               ("extra", "validation.extra_field"))


def field_name(field: str | None) -> str | None:
    """`answers.time_of_day` → `attribute[time_of_day]`; `lon` → `long`."""
    if not field:
        return None
    head, _, rest = field.partition(".")
    if head == "answers" and rest:
        return f"attribute[{rest}]"
    return FIELDS.get(head, head) + (f".{rest}" if rest and head != "answers" else "")


def describe(code: str, english: bool, field: str | None = None, detail: str | None = None) -> str:
    """A refusal in words: the stable code first (what a client acts on), the message, the field."""
    text = f"{code}: {message(code, english)}"
    if field:
        text += f" [{field_name(field)}]"
    if detail:
        text += f" ({detail})"
    return text


def is_open311(request: Request) -> bool:
    return request.url.path.startswith(PREFIX)


def _subject(request: Request) -> tuple[str | None, str | None]:
    """What a refusal is about, as intake's trail names it: a request is a case."""
    params = request.path_params
    if "service_request_id" in params:
        return "case", audit.safe_id(params["service_request_id"])
    if "service_code" in params:
        return "category", audit.safe_id(params["service_code"])
    return None, None


def _record_refusal(request: Request, error: ApiError) -> None:
    """A 403 or 404 answered to a key: `refused.<code>` in intake's trail (shared/audit_api.py does the same
    for people), in a transaction of its own, the request's having rolled back."""
    if getattr(request.state, "principal", None) is None:
        return  # no key: nobody to name
    rt = request.app.state.runtime
    kind, subject = _subject(request)
    detail = {"status": error.status, "method": request.method, "route": route_template(request.scope)}
    try:
        with rt.uow() as session:
            audit.record(session, rt.audit, request_actor(request), f"refused.{error.code}", subject_kind=kind,
                         subject_id=subject, detail=detail)
    except Exception as exc:  # the refusal is answered all the same
        log.error("intake: could not record a refused Open311 request: %s", type(exc).__name__)


def _validation_problems(exc: RequestValidationError, english: bool) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else ""
        name = ".".join(loc[1:]) if where in ("query", "path", "header", "body") else ".".join(loc)
        if where == "path" and name == "format":
            problems.append(describe("open311.format", english))
            continue
        kind = err.get("type", "")
        code = next((c for prefix, c in _VALIDATION if kind.startswith(prefix)), "validation.invalid")
        problems.append(describe(code, english, name or None))
    return problems or [describe("validation.invalid", english)]


def install(app: FastAPI) -> None:
    """Answer every refusal under /open311 as the specification does; leave the rest to the app's own
    handlers (shared/errors.py, shared/audit_api.py)."""
    own = {kind: app.exception_handlers[kind] for kind in (ApiError, RequestValidationError, DataError,
                                                           StarletteHTTPException, DBAPIError)}

    async def api_error(request: Request, exc: ApiError):
        if not is_open311(request):
            return await own[ApiError](request, exc)
        if exc.status in (403, 404) and not getattr(exc, "audit_recorded", False):
            await run_in_threadpool(_record_refusal, request, exc)
        status = STATUS.get(exc.status, exc.status)
        return render.errors(render.fmt_of(request), status,
                             [describe(exc.code, wants_english(request), exc.field, exc.detail)], exc.headers)

    async def invalid(request: Request, exc: RequestValidationError):
        if not is_open311(request):
            return await own[RequestValidationError](request, exc)
        return render.errors(render.fmt_of(request), 400, _validation_problems(exc, wants_english(request)))

    async def unstorable(request: Request, exc: DataError):
        if not is_open311(request):
            return await own[DataError](request, exc)
        return render.errors(render.fmt_of(request), 400, [describe("validation.bad_type", wants_english(request))])

    async def http_error(request: Request, exc: StarletteHTTPException):
        if not is_open311(request):
            return await own[StarletteHTTPException](request, exc)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "validation.invalid")
        status = exc.status_code if exc.status_code in (404, 405) else 400
        return render.errors(render.fmt_of(request), status, [describe(code, wants_english(request))],
                             getattr(exc, "headers", None))

    async def database_away(request: Request, exc: DBAPIError):
        if not is_open311(request) or not database_unavailable(exc):
            return await own[DBAPIError](request, exc)  # a statement's own fault stays a 500 there
        return render.errors(render.fmt_of(request), 503,
                             [describe("service.database_unavailable", wants_english(request))], {"Retry-After": "1"})

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(DBAPIError, database_away)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(DataError, unstorable)
    app.add_exception_handler(StarletteHTTPException, http_error)


def busy(scope, english: bool, retry_after: int) -> Response:
    """The admission bound's refusal (shared/admission.py) of a request under /open311, as the
    specification's error list in the format its path asked for."""
    return render.errors(render.fmt_of_path(scope.get("path", "")), 503, [describe("service.busy", english)],
                         {"Retry-After": str(retry_after), "Cache-Control": "no-store"})
