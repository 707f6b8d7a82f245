"""Errors a client can act on: a stable code, a Chinese message (English on request), the field."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

# code → (Chinese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "auth.missing_token": ("请先登录：缺少访问令牌", "Sign in first: the bearer token is missing"),
    "auth.invalid_token": ("访问令牌无效或已过期，请重新登录", "The token is invalid or expired; sign in again"),
    "auth.forbidden": ("您没有权限执行此操作", "You are not allowed to do this"),
    "auth.unavailable": ("身份服务暂时不可用，请稍后重试", "The identity service cannot be reached; try again shortly"),
    "auth.missing_api_key": ("缺少 API 密钥（X-API-Key 请求头）", "The X-API-Key header is missing"),
    "auth.invalid_api_key": ("API 密钥无效、已过期或已吊销", "The API key is invalid, expired or revoked"),
    "not_found": ("未找到该资源", "Not found"),
    "rate.limited": ("操作过于频繁，请稍后再试", "Too many requests: try again later"),
    "request.too_large": ("请求内容过大", "The request body is too large"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "validation.missing": ("缺少必填项", "This field is required"),
    "validation.too_long": ("内容过长", "Too long"),
    "validation.too_short": ("内容过短", "Too short"),
    "validation.out_of_range": ("数值超出允许范围", "Value out of range"),
    "validation.bad_type": ("格式不正确", "Wrong type or format"),
    "validation.not_allowed": ("不允许的取值", "Value not allowed"),
    "validation.extra_field": ("不支持的字段", "Unknown field"),
    "validation.invalid": ("输入不合法", "Invalid input"),
    "validation.bad_json": ("请求体不是合法的 JSON", "The request body is not valid JSON"),
    "validation.blank": ("内容不能为空白", "This must not be blank"),
    "validation.control_character": ("内容含有不允许的控制字符", "This contains a control character"),
}


def register_messages(messages: dict[str, tuple[str, str]]) -> None:
    """Each service registers its own codes (code → (Chinese, English)) from its own folder."""
    for code, texts in messages.items():
        if code in MESSAGES and MESSAGES[code] != texts:
            raise ValueError(f"error code {code} registered twice with different texts")
        MESSAGES[code] = texts


# pydantic error type → our stable code
VALIDATION_CODES = {
    "missing": "validation.missing",
    "string_too_long": "validation.too_long",
    "too_long": "validation.too_long",
    "string_too_short": "validation.too_short",
    "too_short": "validation.too_short",
    "greater_than": "validation.out_of_range",
    "greater_than_equal": "validation.out_of_range",
    "less_than": "validation.out_of_range",
    "less_than_equal": "validation.out_of_range",
    "finite_number": "validation.out_of_range",
    "literal_error": "validation.not_allowed",
    "enum": "validation.not_allowed",
    "extra_forbidden": "validation.extra_field",
    "json_invalid": "validation.bad_json",
    "text_blank": "validation.blank",  # shared/fields.py
    "text_control": "validation.control_character",
}


# A 401 for a bearer token says how to authenticate (RFC 6750 §3): a client library acts on the header.
CHALLENGES = {"auth.missing_token": "Bearer", "auth.invalid_token": 'Bearer error="invalid_token"'}


class ApiError(Exception):
    """A refusal the client can act on. `keep=True`: what the request wrote before refusing is
    committed all the same, because the refusal is itself a fact to keep (a failed sign-in counted
    towards a lockout, its audit row); otherwise the unit of work rolls back and nothing changes."""

    def __init__(self, status: int, code: str, field: str | None = None, detail: str | None = None, *,
                 keep: bool = False, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status, self.code, self.field, self.detail = status, code, field, detail
        self.keep, self.headers = keep, headers


def wants_english(request: Request) -> bool:
    lang = request.headers.get("accept-language", "")
    return lang.lower().startswith("en")


def message(code: str, english: bool) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["validation.invalid"])
    return en if english else zh


def error_body(code: str, english: bool, field: str | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message(code, english), "field": field, **extra}}


def _field(loc: tuple) -> str | None:
    # The first element says where the value came from (body, query, path, header); the rest is the field.
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)]
    return ".".join(parts) or None


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        extra = {"detail": exc.detail} if exc.detail else {}
        headers = exc.headers
        if exc.code in CHALLENGES:
            headers = {"WWW-Authenticate": CHALLENGES[exc.code], **(headers or {})}
        return JSONResponse(error_body(exc.code, wants_english(request), exc.field, **extra),
                            status_code=exc.status, headers=headers)

    BODY_UNPARSED = "There was an error parsing the body"  # FastAPI's own 400

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        english = wants_english(request)
        errors = []
        for err in exc.errors():
            code = VALIDATION_CODES.get(err.get("type", ""))
            if code is None:
                code = "validation.bad_type" if err.get("type", "").endswith("_type") or "parsing" in err.get(
                    "type", "") else "validation.invalid"
            # Malformed JSON's location is a character offset, not a field: the body is what is at fault.
            field = "body" if err.get("type") == "json_invalid" else _field(err["loc"])
            errors.append({"code": code, "message": message(code, english), "field": field})
        first = errors[0] if errors else {"code": "validation.invalid", "field": None}
        body = error_body(first["code"], english, first["field"], errors=errors)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # The last line of defence: input the database cannot store (a NUL byte in text, a number
        # out of its range) that a schema let through is the client's error, never a 500. The
        # statement's values are not in the message (hide_parameters).
        return JSONResponse(error_body("validation.bad_type", wants_english(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and exc.detail == BODY_UNPARSED:
            # A body FastAPI could not even decode (not UTF-8, say): bad input like malformed JSON, 422.
            return JSONResponse(error_body("validation.bad_json", wants_english(request), "body"), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed", 401: "auth.missing_token",
                403: "auth.forbidden"}.get(exc.status_code, "validation.invalid")
        return JSONResponse(error_body(code, wants_english(request)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
