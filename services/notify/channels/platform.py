"""Status write-backs to the city's 12345 platform (platform.py queues them, in order per order number).

The body is the platform's own JSON (data/platform.json names its fields). Headers (their names are in
platform.json `headers`):
  X-App-Id: who we are to the platform; X-Timestamp: unix seconds; X-Nonce: the delivery id (unique per
  write-back, kept by its retries and re-sends: the platform's key to drop a duplicate);
  X-Signature: hex(HMAC-SHA256(secret, timestamp + body)), the timestamp's digits followed by the raw
  body's bytes, lowercase hex.
A 2xx answer is success unless platform.json `success` names a field of its JSON body that must have one of
some values (a platform answering 200 with a refusal code): another value is a permanent refusal. No
redirect is followed and no answer's body is kept (the platform's code only, in the reason).
"""

import hashlib
import hmac
import time

import httpx

from ..config import PlatformConfig
from .base import Outgoing, Result, http_outcome

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()


def verify(secret: str, headers: dict, body: bytes, config: PlatformConfig, seen: set[str],
           now: float | None = None) -> bool:
    """What the platform does with a write-back (and the tests' platform does): the signature over the raw
    body, a timestamp within 5 minutes, a delivery id not seen before. Header names as lowercase keys."""
    h = config.headers
    timestamp, nonce = headers.get(h.timestamp.lower(), ""), headers.get(h.nonce.lower(), "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    if not nonce or nonce in seen:
        return False
    ok = hmac.compare_digest(signature(secret, timestamp, body), headers.get(h.signature.lower(), ""))
    if ok:
        seen.add(nonce)
    return ok


def platform_client(config: PlatformConfig) -> httpx.Client:
    # A redirect is not followed: the write-back goes where the deployment said, or nowhere.
    return httpx.Client(timeout=config.timeout_seconds, follow_redirects=False)


class PlatformChannel:
    def __init__(self, config: PlatformConfig, client: httpx.Client):
        self.config, self.client = config, client

    def send(self, batch: list[Outgoing]) -> list[Result]:
        return [self.send_one(m) for m in batch]

    def send_one(self, m: Outgoing) -> Result:
        h, body = self.config.headers, m.body.encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", h.timestamp: timestamp, h.nonce: m.message_id,
                   h.signature: signature(self.config.secret or "", timestamp, body)}
        if self.config.app_id:
            headers[h.app_id] = self.config.app_id
        try:
            response = self.client.post(self.config.url, content=body, headers=headers,
                                        timeout=self.config.timeout_seconds)
        except httpx.HTTPError as exc:
            return Result("retry", reason=f"platform: {type(exc).__name__}")
        if not 200 <= response.status_code < 300:
            return Result(http_outcome(response.status_code), reason=f"platform: HTTP {response.status_code}")
        success = self.config.success
        if success is not None:
            try:
                answer = response.json()
            except ValueError:
                # Not the platform's JSON (a proxy's page): the platform may not have seen it; try again.
                return Result("retry", reason="platform: an answer that is not JSON")
            code = answer.get(success.field) if isinstance(answer, dict) else None
            if code is None or str(code) not in success.values:
                return Result("failed", reason=f"platform: refused, {success.field}={str(code)[:40]}")
        return Result("sent", provider_message_id=m.message_id)
