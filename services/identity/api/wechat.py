"""Residents from the WeChat mini-program: the wx.login code exchanged for our tokens."""

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends

from shared.db import utcnow
from shared.deps import Runtime, Uow

from .. import config, views, wechat
from ..config import WechatConfig
from ..limits import per_address
from ..schemas import TokenPair, WechatSignInIn
from .deps import ClientDep, Index, Keys, Sealing

router = APIRouter(tags=["居民登录 residents"])

# Tests (and a bench) place a WechatConfig of their own here; otherwise identity.json's.
CONFIG_KEY = "identity.wechat"


def get_wechat_config(rt: Runtime) -> WechatConfig:
    return rt.cache.get(CONFIG_KEY) or config.get().wechat


def get_http(rt: Runtime) -> httpx.Client:
    """One pooled client per runtime: a sign-in reuses the connection to WeChat."""
    http = rt.cache.get("identity.wechat.http")
    if http is None:
        http = rt.cache.setdefault("identity.wechat.http", httpx.Client())
    return http


@router.post("/tokens/wechat", response_model=TokenPair, dependencies=[per_address("identity.wechat.address")],
             summary="微信小程序登录 sign in from the WeChat mini-program",
             description="用 wx.login 的 code 调用微信 code2session 得到 openid：已绑定的居民直接登录；"
                         "否则若同时提供手机号和短信验证码（用途 sign_in），登录该号码的居民（新号码即注册）"
                         "并绑定此微信；否则以此微信新建居民。session_key 不保存。"
                         "未启用微信登录时答 503 signin.wechat_disabled（不必重试，请改用短信登录）。"
                         "The wx.login code → code2session → the resident with this openid; else, with a verified "
                         "phone, that phone's resident (linked); else a new resident. 503 signin.wechat_disabled "
                         "when WeChat sign-in is not configured (do not retry: offer the SMS sign-in).",
             responses={401: {"description": "微信凭证无效或已使用 signin.wechat_code_invalid; 微信判定高风险 "
                                             "signin.wechat_refused; 短信验证码错误 signin.code_invalid; "
                                             "账号已停用 signin.failed"},
                        422: {"description": "手机号格式不正确 signin.bad_phone; phone 与 sms_code 须同时提供 "
                                             "validation.missing"},
                        503: {"description": "微信暂不可用 signin.wechat_unavailable; 未启用 signin.wechat_disabled"}})
def sign_in_wechat(body: WechatSignInIn, rt: Runtime, keys: Keys, uow: Uow, client: ClientDep, index: Index,
                   sealing: Sealing, cfg: Annotated[WechatConfig, Depends(get_wechat_config)],
                   http: Annotated[httpx.Client, Depends(get_http)]) -> TokenPair:
    return views.token_pair(wechat.sign_in(uow.session, uow.emit, rt.settings, keys, index, sealing, client, cfg,
                                           http, body.code, body.phone, body.sms_code, utcnow()))
