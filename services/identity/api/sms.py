"""Residents' one-time SMS codes: asking for one, signing in with it, and the development inbox."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import User
from shared.db import utcnow
from shared.deps import Runtime, SessionDep, Uow

from .. import codes, residents, views
from ..limits import AccountLimits, per_address
from ..schemas import CodeRequestIn, CodeSent, DevCode, DevCodes, SmsSignInIn, TokenPair
from .deps import ClientDep, Index, Keys, Sealing

router = APIRouter(tags=["居民登录 residents"])

# Headers a proxy adds when it relays a request: the client is then elsewhere, whatever address
# the connection comes from.
RELAYED = ("forwarded", "x-forwarded-for", "x-real-ip")

_bearer = HTTPBearer(auto_error=False, description="身份服务签发的访问令牌 an access token from /identity/v1/tokens/*")


class Caller:
    """Who asks, read only where it matters: a code to link a phone needs a valid token, a sign-in
    code none (an app sending its expired token along still gets one)."""

    def __init__(self, request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]):
        self.request, self.credentials = request, credentials

    def user(self) -> User | None:
        return self.request.app.state.verifier.user(self.credentials.credentials) if self.credentials else None


CallerDep = Annotated[Caller, Depends()]


@router.post("/sms-codes", status_code=202, response_model=CodeSent,
             dependencies=[per_address("identity.sms_code.address")],
             summary="获取短信验证码 send a one-time code by SMS",
             description="向该号码发送6位验证码（5分钟内有效，最多尝试5次）。无论号码是否已注册，回答都相同。"
                         "每个号码每小时、每个客户端地址每小时的条数有上限，每个客户端地址每分钟的请求次数另有上限"
                         "（rate.limited）。用途 link_phone 须登录。"
                         "A 6-digit code, valid 5 minutes, 5 tries; the same answer whether or not the number "
                         "has an account; limits per number and per client address per hour, and on requests per "
                         "client address a minute (rate.limited).",
             responses={401: {"description": "用途 link_phone 但未登录 link_phone without a valid token"},
                        422: {"description": "手机号格式不正确 signin.bad_phone, or a malformed body"},
                        429: {"description": "发送过于频繁 signin.code_limit；请求过于频繁 rate.limited; "
                                             "Retry-After says when to ask again"}},
             openapi_extra={"security": [{}]})  # besides the bearer token: none (it is for link_phone only)
def send_code(body: CodeRequestIn, rt: Runtime, uow: Uow, client: ClientDep, index: Index, sealing: Sealing,
              caller: CallerDep) -> CodeSent:
    user = caller.user() if body.purpose == "link_phone" else None
    sent = codes.request(uow.session, uow.emit, rt.settings, index, sealing, client, body.phone, body.purpose,
                         utcnow(), user_id=user.id if user else None)
    return CodeSent(expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post("/tokens/sms", response_model=TokenPair, dependencies=[per_address("identity.sms_sign_in.address")],
             summary="居民短信验证码登录（首次登录即注册）sign in with an SMS code",
             description="验证码正确即登录；该号码首次登录时自动创建居民账号。验证码错误、过期、已使用或尝试次数用尽，"
                         "一律答 signin.code_invalid，且计入尝试次数。A resident is created on the first sign-in; "
                         "wrong, expired, used and dead codes all answer signin.code_invalid and count as a try. "
                         "每个客户端地址、每个号码每分钟的尝试次数有上限 attempts per client address and per number "
                         "a minute are limited (429 rate.limited).",
             responses={401: {"description": "验证码错误或已失效 signin.code_invalid; 账号已停用 signin.failed"},
                        422: {"description": "手机号格式不正确 signin.bad_phone, or a malformed body"},
                        429: {"description": "尝试过于频繁 rate.limited; Retry-After"}})
def sign_in_sms(body: SmsSignInIn, rt: Runtime, keys: Keys, uow: Uow, client: ClientDep, index: Index,
                sealing: Sealing, accounts: AccountLimits) -> TokenPair:
    accounts.phone(index, "identity.sms_sign_in.phone", body.phone)
    return views.token_pair(residents.sign_in_by_code(uow.session, uow.emit, rt.settings, keys, index, sealing,
                                                      client, body.phone, body.code, utcnow()))


@router.get("/dev/sms-codes", response_model=DevCodes,
            summary="【开发用】查看发给某号码的验证码 DEVELOPMENT ONLY: the codes sent to a number",
            description="仅用于开发和演示：嵌入式模式且未配置真实短信通道时可用（identity.json 的 sms_code.dev_inbox，"
                        "设置了 sms_code.dev_inbox_off_env 所指的环境变量即关闭），且只回答本机（回环地址、"
                        "未经代理转发）的请求；服务模式下一律 404。"
                        "Development only: embedded mode with no real SMS provider configured, and to a client on "
                        "this machine only (a loopback address, not relayed by a proxy); 404 in services mode.",
            responses={404: {"description": "未启用开发用收件箱，或请求不是来自本机 dev.disabled"},
                       422: {"description": "手机号格式不正确 signin.bad_phone"}})
def dev_sms_codes(phone: Annotated[str, Query(min_length=3, max_length=32, description="手机号 the number")],
                  request: Request, rt: Runtime, session: SessionDep, index: Index, sealing: Sealing) -> DevCodes:
    local = codes.loopback(request.client.host if request.client else None) and \
        not any(h in request.headers for h in RELAYED)
    found = codes.dev_inbox(session, rt.settings, index, sealing, phone, utcnow(), local=local)
    return DevCodes(codes=[DevCode(code=c.code, purpose=c.purpose, status=c.status, created_at=c.created_at,
                                   expires_at=c.expires_at) for c in found])
