"""Outbound webhooks to subscribed government systems, only to the public addresses of allowed
hosts, checked again at each delivery (targets.py).

The body is the event envelope (ids and codes only). Headers:
  X-CG-Timestamp: unix seconds; X-CG-Delivery: the delivery id (unique, the nonce);
  X-CG-Signature: sha256=hex(HMAC-SHA256(secret, f"{timestamp}.{delivery}.{body}")).
A receiver recomputes the signature over the raw body, rejects a timestamp more than 5 minutes
away from its clock, and remembers delivery ids for those 5 minutes to drop replays (a retried
delivery keeps its id, so a receiver also sees our retries as duplicates of one delivery).
"""

import hashlib
import hmac
import time

import httpx

from ..config import WebhookConfig
from ..targets import Refused, Resolver, check
from .base import Outgoing, Result, http_outcome

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, delivery: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{delivery}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: dict, body: bytes, seen: set[str], now: float | None = None) -> bool:
    """What a receiver does (and what the tests' receiver does)."""
    timestamp, delivery = headers.get("x-cg-timestamp", ""), headers.get("x-cg-delivery", "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    if delivery in seen:
        return False
    ok = hmac.compare_digest(signature(secret, timestamp, delivery, body), headers.get("x-cg-signature", ""))
    if ok:
        seen.add(delivery)
    return ok


def webhook_client(config: WebhookConfig) -> httpx.Client:
    """Webhooks' own client: no redirect is followed (a 30x to an internal address would undo the
    target check), and no connection is kept, since a connection is to an address (the name's
    address of one delivery) and must not serve another name that shares it."""
    return httpx.Client(timeout=config.timeout_seconds, follow_redirects=False,
                        limits=httpx.Limits(max_keepalive_connections=0))


class WebhookChannel:
    def __init__(self, config: WebhookConfig, client: httpx.Client, resolve: Resolver):
        self.config, self.client, self.resolve = config, client, resolve

    def send(self, batch: list[Outgoing]) -> list[Result]:
        return [self.send_one(m) for m in batch]

    def send_one(self, m: Outgoing) -> Result:
        # Checked again now, resolved once, and sent to the very address checked (targets.py).
        try:
            target = check(self.config, m.address or "", self.resolve)
        except Refused as refused:
            # A name that does not resolve now may again later; a refused target will not by itself.
            outcome = "retry" if refused.code == "notify.url_unresolvable" else "failed"
            return Result(outcome, reason=f"webhook: {refused.code}")
        url, host, extensions = target.pinned()
        body = m.body.encode()
        timestamp = str(int(time.time()))
        headers = {**host, "Content-Type": "application/json", "X-CG-Timestamp": timestamp,
                   "X-CG-Delivery": m.message_id, "X-CG-Event": m.event_type or "",
                   "X-CG-Signature": signature(m.secret or "", timestamp, m.message_id, body)}
        try:
            response = self.client.post(url, content=body, headers=headers, extensions=extensions,
                                        timeout=self.config.timeout_seconds)
        except httpx.HTTPError as exc:
            return Result("retry", reason=f"webhook: {type(exc).__name__}")
        if 200 <= response.status_code < 300:
            return Result("sent", provider_message_id=m.message_id)
        return Result(http_outcome(response.status_code), reason=f"webhook: HTTP {response.status_code}")
