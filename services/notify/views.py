"""What a reader sees of notify's records: contacts masked, a resident's identity on delivery
states for admins only."""

import json

from sqlalchemy.orm import Session

from shared.auth import User
from shared.masking import mask_email, mask_phone

from . import access
from .models import DigestItem, Message, Recipient, WebhookSubscription
from .schemas import (
    ContactsOut,
    DigestEntry,
    InboxMessage,
    MessageState,
    PlatformUpdateState,
    Preferences,
    WebhookDelivery,
    WebhookOut,
)


def inbox_message(m: Message) -> InboxMessage:
    return InboxMessage(id=m.id, title=m.title, body=m.body, category=m.category, urgent=m.urgent,
                        subject_kind=m.subject_kind, subject_id=m.subject_id, created_at=m.created_at,
                        read_at=m.read_at)


def message_state(m: Message, show_recipient: bool = True) -> MessageState:
    return MessageState(id=m.id, event_id=m.event_id, recipient_id=m.recipient_id if show_recipient else None,
                        channel=m.channel, template=m.template, status=m.status, attempts=m.attempts,
                        reason=m.reason, provider_message_id=m.provider_message_id, fallback_from=m.fallback_from,
                        created_at=m.created_at, sent_at=m.sent_at, delivered_at=m.delivered_at, dead_at=m.dead_at,
                        correlation_id=m.correlation_id)


def message_states(session: Session, user: User, rows: list[Message]) -> list[MessageState]:
    shown = access.recipients_shown(session, user, rows)
    return [message_state(m, m.id in shown) for m in rows]


def preferences(who: Recipient) -> Preferences:
    return Preferences(channels=json.loads(who.channels), opt_outs=json.loads(who.opt_outs),
                       quiet_start=who.quiet_start, quiet_end=who.quiet_end, timezone=who.timezone, lang=who.lang,
                       sms_daily_limit=who.sms_daily_limit)


def contacts(who: Recipient, pending_email: str | None) -> ContactsOut:
    """Masked: the verified email (the one used) and the one awaiting its code, apart."""
    return ContactsOut(phone=mask_phone(who.phone), email=mask_email(who.email),
                       email_pending=mask_email(pending_email), wechat_bound=bool(who.wechat_openid),
                       push_bound=bool(who.push_token))


def webhook(w: WebhookSubscription, secret: str | None = None) -> WebhookOut:
    return WebhookOut(id=w.id, name=w.name, url=w.url, event_patterns=json.loads(w.event_patterns),
                      areas=json.loads(w.areas or "[]"), categories=json.loads(w.categories or "[]"),
                      active=w.active, created_at=w.created_at, secret=secret)


def webhook_delivery(m: Message) -> WebhookDelivery:
    return WebhookDelivery(id=m.id, event_id=m.event_id, event_type=m.template, subject_kind=m.subject_kind,
                           subject_id=m.subject_id, status=m.status, attempts=m.attempts, last_error=_error(m),
                           created_at=m.created_at, sent_at=m.sent_at,
                           next_attempt_at=m.next_attempt_at if m.status == "queued" else None, dead_at=m.dead_at)


def platform_update(row) -> PlatformUpdateState:
    """One write-back of the log (platform.log_of): its record and its delivery."""
    order_no, update_id, case_id, event_type, code, name, occurred_at, m = row
    return PlatformUpdateState(id=update_id, order_no=order_no, case_id=case_id, event_type=event_type,
                               status_code=code, status_name=name, occurred_at=occurred_at, status=m.status,
                               attempts=m.attempts, last_error=_error(m), created_at=m.created_at, sent_at=m.sent_at,
                               next_attempt_at=m.next_attempt_at if m.status == "queued" else None,
                               dead_at=m.dead_at)


def _error(m: Message) -> str | None:
    # A message sent has no reason left; one queued again keeps the failure it is waiting out.
    return m.reason


def digest_entry(r: DigestItem) -> DigestEntry:
    return DigestEntry(kind=r.kind, clock=r.clock, case_id=r.case_id, case_no=r.case_no,
                       work_order_id=r.work_order_id, deadline=r.deadline)
