"""Residents from the WeChat mini-program: the `wx.login` code → code2session → our resident.

code2session (GET {endpoint}/sns/jscode2session?appid&secret&js_code&grant_type=authorization_code)
answers HTTP 200 either way: `{openid, session_key, unionid?}` or `{errcode, errmsg}`. The
session_key is never kept (nothing here decrypts the mini-program's data), the answer is never
logged (it holds it), and the AppSecret travels only in that one query string.

A resident is found by their openid; else, when the mini-program also sends a phone and an SMS
code that verify, by that phone (created if new) and the openid is linked to them; else a
resident with the openid alone is created (a phone may be linked later, POST /me/phone). A
disabled resident is refused before anything is linked: a refused sign-in leaves their WeChat
binding as it was.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.errors import ApiError
from shared.keys import BlindIndex, DataKeys, SigningKeys
from shared.uow import Emit

from . import audit, codes, directory, residents, tokens
from .audit import Client
from .config import WechatConfig
from .models import User

log = logging.getLogger(__name__)

METHOD = "wechat"
# WeChat's errcodes → our answer. 40029 invalid code, 40163 code been used: the mini-program must
# call wx.login again; 45011 rate limit, -1 system busy: try again shortly; 40226: WeChat judged
# the user high-risk and intercepted the sign-in. Any other code (40013 bad AppID, 40125 bad
# AppSecret, ...) is our configuration's fault: unavailable to the resident, logged for us.
REFUSALS = {40029: (401, "signin.wechat_code_invalid"), 40163: (401, "signin.wechat_code_invalid"),
            45011: (503, "signin.wechat_unavailable"), -1: (503, "signin.wechat_unavailable"),
            40226: (401, "signin.wechat_refused")}
UNAVAILABLE = (503, "signin.wechat_unavailable")


class Refused(Exception):
    def __init__(self, status: int, code: str):
        super().__init__(code)
        self.status, self.code = status, code


@dataclass(frozen=True)
class WechatIdentity:
    openid: str
    unionid: str | None


def _id(value) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def code2session(cfg: WechatConfig, http: httpx.Client, js_code: str) -> WechatIdentity:
    """Who the mini-program's login code belongs to, or Refused(status, error code)."""
    params = {"appid": cfg.appid, "secret": cfg.secret, "js_code": js_code, "grant_type": "authorization_code"}
    try:
        response = http.get(f"{cfg.endpoint.rstrip('/')}/sns/jscode2session", params=params,
                            timeout=cfg.timeout_seconds)
    except httpx.HTTPError as exc:  # the text may quote the URL, and with it the AppSecret: type only
        log.warning("wechat code2session unreachable: %s", type(exc).__name__)
        raise Refused(*UNAVAILABLE) from None
    try:
        body = json.loads(response.text)  # WeChat says text/plain at times: parse the text itself
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        log.warning("wechat code2session answered HTTP %s", response.status_code)
        raise Refused(*UNAVAILABLE)
    errcode = body.get("errcode") or 0
    if errcode:
        if errcode not in REFUSALS:
            log.warning("wechat code2session refused with errcode %s", errcode)
        raise Refused(*REFUSALS.get(errcode, UNAVAILABLE))
    openid = _id(body.get("openid"))
    if openid is None:
        log.warning("wechat code2session answered without an openid")
        raise Refused(*UNAVAILABLE)
    return WechatIdentity(openid, _id(body.get("unionid")))


def sign_in(session: Session, emit: Emit, settings: Settings, signing: SigningKeys, index: BlindIndex,
            keys: DataKeys, client: Client, cfg: WechatConfig, http: httpx.Client, js_code: str,
            raw_phone: str | None, sms_code: str | None, now: datetime) -> tokens.Issued:
    """POST /tokens/wechat. WeChat disabled (off, or no AppID/AppSecret in the environment): 503
    signin.wechat_disabled, so the mini-program can say so and offer the SMS sign-in."""
    if (raw_phone is None) != (sms_code is None):
        raise ApiError(422, "validation.missing", field="sms_code" if sms_code is None else "phone")
    if not cfg.usable:
        audit.record(session, client, METHOD, "signin.wechat_disabled")
        raise ApiError(503, "signin.wechat_disabled", keep=True)
    if raw_phone is not None:  # a bad number is refused before WeChat's one-time code is spent
        codes.phone_or_refuse(session, client, METHOD, raw_phone)
    # WeChat is asked before the first query, so no transaction is held open across the call.
    try:
        who = code2session(cfg, http, js_code)
    except Refused as exc:
        audit.record(session, client, METHOD, exc.code)
        raise ApiError(exc.status, exc.code, field="code" if exc.status == 401 else None, keep=True) from None
    openid_index = index(who.openid, "wechat")
    user = session.scalar(select(User).where(User.wechat_openid == who.openid))
    if user is None and raw_phone is not None:
        phone, phone_index = residents.verified_phone(session, index, client, METHOD, raw_phone, sms_code,
                                                      "sign_in", now)
        user = residents.find_or_create(session, emit, keys, phone, phone_index, now)
        # A disabled resident is refused before anything is linked: the refusal is kept (its audit
        # row, the code used), so a link made first would be kept with it.
        residents.refuse_if_disabled(session, client, METHOD, user, openid_index)
        # Whoever proves the number is that resident (as with the SMS sign-in): this WeChat account
        # becomes theirs, replacing one linked before.
        user.wechat_openid, user.updated_at = who.openid, now
    elif user is None:
        user = directory.create(session, emit, kind="resident", role="resident", now=now, wechat_openid=who.openid)
    residents.refuse_if_disabled(session, client, METHOD, user, openid_index)
    if who.unionid and user.wechat_unionid != who.unionid:
        user.wechat_unionid, user.updated_at = who.unionid, now
    return residents.start(session, settings, signing, client, METHOD, user, openid_index, now)
