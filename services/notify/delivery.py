"""What comes of a message: the outcome of a send, a provider's delivery receipt, and the
dead-letter queue (messages with nothing left to try) with its requeue.

  sent → MessageSent; retry → queued again after the next back-off delay (the retry queue is the
  next_attempt_at column), except an urgent message, which the next usable channel takes at once
  (MessageFailed, not permanent); failed or suppressed → MessageFailed / MessageSuppressed, and the
  next usable channel in the recipient's order gets a message (exactly once per event, recipient and
  channel); nothing left to try → the message enters the dead-letter queue (dead_at, reason).
"""

import threading
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from shared import metrics
from shared.db import upsert_insert, utcnow
from shared.errors import ApiError
from shared.events.notify import MessageDelivered, MessageFailed, MessageSent, MessageSuppressed
from shared.messaging.outbox import wake_after_commit
from shared.uow import Emit

from .channels.base import Result
from .config import Config
from .messages import fall_back
from .models import Message, WechatRefusal


def _common(m: Message, now: datetime) -> dict:
    return dict(message_id=m.id, event_id=m.event_id, recipient_id=m.recipient_id, channel=m.channel,
                template=m.template, at=now)


def settle(session: Session, emit: Emit, cfg: Config, m: Message, result: Result, now: datetime) -> None:
    """Record what came of one send (or of deciding not to send)."""
    m.lease_until = None
    common = _common(m, now)
    if result.outcome == "sent":
        m.status, m.sent_at, m.reason, m.sealed = "sent", now, None, None
        metrics.notification(m.channel, "sent")
        m.provider_message_id = result.provider_message_id
        emit(MessageSent(provider_message_id=result.provider_message_id, **common))
        return
    # The platform's write-backs have a back-off of their own: the platform may be down for hours.
    delays = (cfg.platform.retry_delays_seconds if m.channel == "platform" else None) or cfg.policy.retry_delays_seconds
    if result.outcome == "retry" and m.urgent and fall_back(session, cfg, m, now):
        # An urgent message (a 特急 order, an overdue one) does not wait out a back-off on a channel that
        # is failing: the next channel has it now. The last channel left retries as any other.
        m.status, m.sealed = "failed", None
        metrics.notification(m.channel, "failed")
        m.reason = f"{result.reason or 'retry'}; urgent: handed to the next channel at once"[:300]
        emit(MessageFailed(reason=m.reason, permanent=False, **common))
        return
    if result.outcome == "retry" and m.attempts <= len(delays):
        m.status, m.reason = "queued", result.reason
        m.next_attempt_at = now + timedelta(seconds=delays[m.attempts - 1])
        return
    m.sealed = None  # a sealed address (a sign-in code) is kept only while the message may still go
    reason = result.reason or result.outcome
    if result.outcome == "retry":
        reason = f"retries exhausted: {reason}"[:300]
    m.reason = reason[:300]
    metrics.notification(m.channel, "suppressed" if result.outcome == "suppressed" else "failed")
    if result.outcome == "suppressed":
        m.status = "suppressed"
        if refused := result.extra.get("refused_template"):
            insert = upsert_insert(session)
            session.execute(insert(WechatRefusal).values(user_id=m.recipient_id, template_id=refused, at=now)
                            .on_conflict_do_nothing())
        emit(MessageSuppressed(reason=m.reason, **common))
    else:
        m.status = "failed"
        emit(MessageFailed(reason=m.reason, permanent=True, **common))
    if not fall_back(session, cfg, m, now):
        m.dead_at = now  # the dead-letter queue: GET /notify/v1/admin/dead-letters


def apply_receipt(session: Session, emit: Emit, cfg: Config, m: Message, delivered: bool, reason: str | None,
                  now: datetime | None = None) -> None:
    """A provider's delivery receipt: sent → delivered, or a failed delivery → failed and the next channel."""
    now = now or utcnow()
    if m.status not in ("sent", "sending"):
        return  # already settled by an earlier receipt: receipts may come twice
    if delivered:
        m.status, m.delivered_at = "delivered", now
        emit(MessageDelivered(provider_message_id=m.provider_message_id, **_common(m, now)))
        return
    m.status, m.reason = "failed", (reason or "delivery failed")[:300]
    emit(MessageFailed(reason=m.reason, permanent=True, **_common(m, now)))
    if not fall_back(session, cfg, m, now):
        m.dead_at = now


def of_subject(session: Session, subject_id: str, limit: int, scope: ColumnElement[bool] | None) -> list[Message]:
    """The messages about a case or dispute, oldest first, within the reader's scope (access.delivery_scope); of
    an event's messages made together, the inbox copy before the channels that carry it (rows of one instant
    come back in no set order: the inbox copy is written at COMMIT, after its channels)."""
    query = select(Message).where(Message.subject_id == subject_id)
    if scope is not None:
        query = query.where(scope)
    inbox_first = case((Message.channel == "inbox", 0), else_=1)
    return list(session.scalars(query.order_by(Message.created_at, inbox_first, Message.id).limit(limit)))


def dead_letters(session: Session, limit: int) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.dead_at.is_not(None))
                                .order_by(Message.dead_at.desc()).limit(limit)))


PENDING = ("queued", "sending")


def resend(session: Session, m: Message, wake: threading.Event) -> None:
    """Send a settled delivery again from its first attempt (a webhook or a platform write-back the other
    side lost, refused or never got): the same delivery id, a fresh count of attempts. One still queued or
    being sent is 409: it is going already."""
    if m.status in PENDING:
        raise ApiError(409, "notify.delivery_pending", field="status")
    m.status, m.dead_at, m.attempts, m.next_attempt_at = "queued", None, 0, utcnow()
    m.reason, m.lease_until = None, None
    wake_after_commit(session, wake)


def requeue(session: Session, m: Message, wake: threading.Event) -> None:
    """Send a dead letter again from its first attempt (e.g. once the channel is fixed)."""
    if m.dead_at is None:
        raise ApiError(409, "notify.not_dead", field="message_id")
    m.status, m.dead_at, m.attempts, m.next_attempt_at = "queued", None, 0, utcnow()
    wake_after_commit(session, wake)
