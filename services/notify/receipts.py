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
from shared.keys import BlindIndex
from shared.uow import Emit

from .cases import CALLER
from .config import Config
from .delivery import apply_receipt
from .directory import phone_index
from .models import CaseFacts, Message, Recipient

WECHAT_TOLERANCE_SECONDS = 300


def sms_reports(session: Session, emit: Emit, cfg: Config, index: BlindIndex, token: str,
                reports: list[dict]) -> None:
    """Alibaba Cloud's HTTP push of SMS reports, authenticated by the token in the callback URL."""
    expected = cfg.sms.callback_token
    if not expected or not hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode()):
        raise ApiError(401, "notify.bad_signature", field="token")
    for report in reports:
        out_id, biz_id = report.get("out_id"), report.get("biz_id")
        m = session.get(Message, str(out_id)[:36]) if isinstance(out_id, str | int) and out_id else None
        if m is None and isinstance(biz_id, str | int) and biz_id:
            m = _by_number(session, index, str(biz_id)[:100], report.get("phone_number"))
        if m is not None and m.channel == "sms":
            ok = bool(report.get("success"))
            apply_receipt(session, emit, cfg, m, ok, None if ok else f"sms report: {report.get('err_code')}"[:100])


def _by_number(session: Session, index: BlindIndex, biz_id: str, number: object) -> Message | None:
    """A batch send has one BizId for many numbers: the number tells them apart. Phones are sealed,
    so the number is matched through its blind index, never read back: a recipient's, or a hotline
    caller's (callers.py: her case's facts, while the case is open)."""
    found = phone_index(index, number) if isinstance(number, str) and len(number) <= 20 else None
    if found is None:
        return None
    m = session.scalar(select(Message).join(Recipient, Recipient.user_id == Message.recipient_id).where(
        Message.provider_message_id == biz_id, Message.channel == "sms", Recipient.phone_index == found).limit(1))
    if m is None:
        m = session.scalar(select(Message).join(CaseFacts, Message.recipient_id == CALLER + CaseFacts.case_id).where(
            Message.provider_message_id == biz_id, Message.channel == "sms",
            CaseFacts.caller_phone_index == found).limit(1))
    return m


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
        if not isinstance(item, dict):
            continue
        m = session.scalar(select(Message).where(Message.channel == "wechat",
                                                 Message.provider_message_id == str(item.get("MsgID"))[:100]))
        if m is not None:
            ok = str(item.get("ErrorCode")) == "0"
            apply_receipt(session, emit, cfg, m, ok, None if ok else f"wechat report: {item.get('ErrorCode')}")
