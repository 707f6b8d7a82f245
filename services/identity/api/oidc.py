"""Staff sign-in through the city's OpenID Connect provider (authorization code flow with PKCE).

The front end sends the browser to `GET /oidc/{provider}/authorize?redirect_uri=...`, which
redirects to the provider; the provider sends it back to the redirect URI with `code` and
`state`, which the front end posts to `POST /oidc/{provider}/token` for our token pair.
"""

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse

from shared.db import utcnow
from shared.deps import Runtime, SessionDep, Uow

from .. import config, oidc, views
from ..limits import per_address
from ..oidc_client import Providers
from ..schemas import OidcProviderList, OidcProviderView, OidcTokenIn, TokenPair
from .deps import ClientDep, Keys

router = APIRouter(tags=["统一身份认证 OIDC"])

_UNKNOWN = {"description": "未配置该统一身份认证 no such provider (signin.oidc_unknown_provider)"}
_UNAVAILABLE = {"description": "统一身份认证服务无法访问 the provider cannot be reached (signin.oidc_unavailable)"}

ProviderName = Annotated[str, Path(max_length=40, description="统一身份认证的名称 the provider's name")]
BINDING_COOKIE = "cg_oidc_binding"


def get_providers(rt: Runtime) -> Providers:
    """Discovery documents and keys of the providers, cached for the process."""
    providers = rt.cache.get("identity.oidc")
    if providers is None:
        providers = rt.cache.setdefault("identity.oidc", Providers())
    return providers


ProvidersDep = Annotated[Providers, Depends(get_providers)]


@router.get("/oidc/providers", response_model=OidcProviderList,
            summary="可用的统一身份认证（登录页用）the identity providers staff may sign in with",
            description="公开接口，无需登录。Public: the sign-in page lists these.")
def list_providers() -> OidcProviderList:
    return OidcProviderList(providers=[OidcProviderView(name=p.name, title=p.title)
                                       for p in config.get().oidc.providers])


@router.get("/oidc/{provider}/authorize", status_code=302, response_class=RedirectResponse,
            dependencies=[per_address("identity.oidc_authorize.address")],
            summary="统一身份认证登录：跳转到认证服务 start signing in at the identity provider",
            description="重定向（302）到认证服务的授权地址（授权码模式 + PKCE S256、state、nonce），"
                        "10 分钟内有效。认证后浏览器带 code 和 state 回到 redirect_uri。"
                        "Redirects to the provider's authorization endpoint; the request is good for 10 minutes.",
            responses={302: {"description": "跳转到认证服务 to the provider's authorization endpoint"},
                       404: _UNKNOWN, 422: {"description": "回调地址不在白名单内 redirect_uri not allowed "
                                                           "(signin.bad_redirect)"},
                       503: _UNAVAILABLE})
def authorize(provider: ProviderName,
              redirect_uri: Annotated[str, Query(max_length=500, description="认证后回到的前端地址（须在白名单内）"
                                                                             "where the provider sends the browser "
                                                                             "back: one of allowed_redirects")],
              request: Request, rt: Runtime, session: SessionDep, providers: ProvidersDep) -> RedirectResponse:
    url, state = oidc.begin(session, providers, provider, redirect_uri, utcnow())
    response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    # The browser that began must finish: POST /token sends this cookie back (fetch with credentials).
    response.set_cookie(BINDING_COOKIE, oidc.browser_binding(rt.settings, state), max_age=oidc.STATE_MINUTES * 60,
                        path="/identity/v1/oidc", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https")
    return response


@router.post("/oidc/{provider}/token", response_model=TokenPair,
             dependencies=[per_address("identity.oidc_token.address")],
             summary="统一身份认证登录：用授权码换令牌 sign in with the code the identity provider sent back",
             description="须由发起登录的同一浏览器提交（携带 /authorize 写入的 Cookie）。"
                        "state 只能使用一次，10 分钟内有效。认证服务中的岗位按配置映射为角色，单位映射为所属单位；"
                         "首次登录时新建工作人员账号（从不按用户名关联已有账号；用户名已被占用时新账号不设用户名），"
                         "此后岗位或单位变化时同步更新；岗位不再映射到本系统角色时停用该账号。"
                         "The state is good once, for 10 minutes. The provider's role and unit become the user's; "
                         "the first sign-in creates the staff account (never linked to an existing one by "
                         "username; without a username when that is taken), later ones follow changes, and one "
                         "with no role here any more disables the account.",
             responses={401: {"description": "登录失败：state 无效、已用或过期，授权码或 ID 令牌验证失败，账号已停用 "
                                             "failed (signin.oidc_failed)"},
                        403: {"description": "岗位未映射到本系统角色（已关联的账号随之停用）no role here "
                                             "(signin.oidc_no_role); a linked account is disabled"},
                        404: _UNKNOWN, 422: {"description": "请求体不合法 invalid body"}, 503: _UNAVAILABLE})
def token(provider: ProviderName, body: OidcTokenIn, rt: Runtime, keys: Keys, client: ClientDep, uow: Uow,
          providers: ProvidersDep,
          binding: Annotated[str | None, Cookie(alias=BINDING_COOKIE, max_length=100,
                                                description="发起登录时写入浏览器的绑定 the browser's binding, set by "
                                                            "/authorize")] = None) -> TokenPair:
    return views.token_pair(oidc.sign_in(uow.session, uow.emit, rt.settings, keys, providers, client, provider,
                                         body.code, body.state, binding, utcnow()))
