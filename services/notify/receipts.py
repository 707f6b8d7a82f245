"""Providers' delivery receipts: Alibaba Cloud SMS status reports, push receipts and WeChat's
subscribe_msg_sent_event, each authenticated as its provider documents, then applied
(delivery.apply_receipt)."""

import hashlib
import hmac
import json
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.uow import Emit

from .config import Config
from .delivery import apply_receipt
from .models import Message, Recipient

WECHAT_TOLERANCE_SECONDS = 300


def sms_reports(session: Session, emit: Emit, cfg: Config, token: str, reports: list[dict]) -> None:
    """Alibaba Cloud's HTTP push of SMS reports, authenticated by the token in the callback URL."""
    expected = cfg.sms.callback_token
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "notify.bad_signature", field="token")
    for report in reports:
        m = session.get(Message, str(report.get("out_id") or "")) if report.get("out_id") else None
        if m is None and report.get("biz_id"):
            # A batch send has one BizId for many numbers: the number tells them apart.
            candidates = session.scalars(select(Message).where(
                Message.provider_message_id == str(report["biz_id"]), Message.channel == "sms")).all()
            phones = {r.user_id: r.phone for r in session.scalars(select(Recipient).where(
                Recipient.user_id.in_([c.recipient_id for c in candidates])))}
            m = next((c for c in candidates if phones.get(c.recipient_id) == report.get("phone_number")), None)
        if m is not None and m.channel == "sms":
            ok = bool(report.get("success"))
            apply_receipt(session, emit, cfg, m, ok, None if ok else f"sms report: {report.get('err_code')}"[:100])


def push_receipt(session: Session, emit: Emit, cfg: Config, raw: bytes, signature: str) -> None:
    """A push provider's receipt, signed with HMAC-SHA256 over the raw body."""
    secret = cfg.push.callback_secret or ""
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise ApiError(401, "notify.bad_signature", field="X-Push-Signature")
    try:
        body = json.loads(raw)
        message_id, status = str(body["message_id"]), str(body["status"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(422, "validation.bad_json") from None
    m = session.get(Message, message_id)
    if m is not None and m.channel == "push" and status in ("delivered", "failed"):
        apply_receipt(session, emit, cfg, m, status == "delivered", f"push report: {body.get('reason')}"[:100])


def verify_wechat(cfg: Config, signature: str, timestamp: str, nonce: str) -> None:
    token = cfg.wechat.callback_token or ""
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    if not token or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise ApiError(401, "notify.bad_signature", field="signature")
    # The signature covers token, timestamp and nonce but not the body (plain-text mode): without
    # a freshness window, one captured query string would authenticate any body forever.
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WECHAT_TOLERANCE_SECONDS:
        raise ApiError(401, "notify.bad_signature", field="timestamp")


def wechat_event(session: Session, emit: Emit, cfg: Config, signature: str, timestamp: str, nonce: str,
                 body: dict) -> None:
    """WeChat's push of subscribe_msg_sent_event: the results of subscription messages sent."""
    verify_wechat(cfg, signature, timestamp, nonce)
    if body.get("Event") != "subscribe_msg_sent_event":
        return
    items = body.get("List") or []
    for item in items if isinstance(items, list) else [items]:
        m = session.scalar(select(Message).where(Message.channel == "wechat",
                                                 Message.provider_message_id == str(item.get("MsgID"))))
        if m is not None:
            ok = str(item.get("ErrorCode")) == "0"
            apply_receipt(session, emit, cfg, m, ok, None if ok else f"wechat report: {item.get('ErrorCode')}")
