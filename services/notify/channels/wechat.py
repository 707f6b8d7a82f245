"""WeChat mini-program subscription messages (subscribeMessage.send).

The access token comes from /cgi-bin/stable_token, which (unlike /cgi-bin/token) does not
invalidate the token other workers hold; it is cached until shortly before it expires. Error
codes: 40001/42001 (token invalid/expired) → refresh once and retry at once; 43101 (the user
refused or has no subscription left) → suppressed, and the template is not sent to them again
until they subscribe; 47003 (a field value breaks its rule) → permanent: the data is wrong, a
retry would fail the same way, so the next channel is tried.
"""

import threading
import time

import httpx

from ..config import WechatConfig
from ..templates import Catalogue, TemplateError
from .base import Outgoing, Result, http_outcome

TOKEN_ERRORS = {40001, 42001, 40014}
TRANSIENT = {-1, 45009, 45011}  # system busy, API daily quota, rate limit


class TokenCache:
    def __init__(self, config: WechatConfig, client: httpx.Client, margin_seconds: float = 300):
        self.config, self.client, self.margin = config, client, margin_seconds
        self.lock = threading.Lock()
        self.token: str | None = None
        self.expires_at = 0.0

    def get(self, force: bool = False, stale: str | None = None) -> str:
        with self.lock:
            # Another thread may have refreshed it already: only refresh the token we saw fail.
            if force and self.token != stale:
                force = False
            if self.token and not force and time.monotonic() < self.expires_at - self.margin:
                return self.token
            response = self.client.post(f"{self.config.endpoint}/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": self.config.appid, "secret": self.config.secret,
                "force_refresh": force})
            body = response.json()
            if "access_token" not in body:
                raise RuntimeError(f"wechat token: errcode {body.get('errcode')}")
            self.token = body["access_token"]
            self.expires_at = time.monotonic() + float(body.get("expires_in", 7200))
            return self.token


class WechatSubscribe:
    def __init__(self, config: WechatConfig, catalogue: Catalogue, client: httpx.Client):
        self.config, self.catalogue, self.client = config, catalogue, client
        self.tokens = TokenCache(config, client)

    def send(self, batch: list[Outgoing]) -> list[Result]:
        return [self.send_one(m) for m in batch]

    def send_one(self, m: Outgoing) -> Result:
        try:
            template_id, page, data = self.catalogue.wechat(m.template, m.values)
        except TemplateError as exc:
            return Result("failed", reason=str(exc)[:200])
        payload = {"touser": m.address, "template_id": template_id, "page": page, "data": data,
                   "miniprogram_state": self.config.miniprogram_state, "lang": "zh_CN"}
        try:
            token = self.tokens.get()
            for attempt in range(2):
                response = self.client.post(f"{self.config.endpoint}/cgi-bin/message/subscribe/send",
                                            params={"access_token": token}, json=payload)
                if response.status_code != 200:
                    return Result(http_outcome(response.status_code), reason=f"wechat: HTTP {response.status_code}")
                body = response.json()
                code = body.get("errcode", 0)
                if code in TOKEN_ERRORS and attempt == 0:
                    token = self.tokens.get(force=True, stale=token)
                    continue
                break
        except (httpx.HTTPError, RuntimeError, ValueError) as exc:
            return Result("retry", reason=f"wechat: {type(exc).__name__}")
        if code == 0:
            return Result("sent", provider_message_id=str(body.get("msgid")) if body.get("msgid") else None)
        if code == 43101:
            return Result("suppressed", reason="wechat: 43101 user refused", extra={"refused_template": template_id})
        if code in TRANSIENT or code in TOKEN_ERRORS:
            return Result("retry", reason=f"wechat: {code}")
        return Result("failed", reason=f"wechat: {code}")
