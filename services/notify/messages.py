"""Messages and the send queue: what is recorded for a recipient, on which channel, at most once.

An inbox message is delivered on creation; a message on an external channel is queued for the
sender (sender.py), which is woken after the recording transaction commits.
"""

import dataclasses
import json
import threading
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import trace_api, tracing
from shared.db import upsert_insert, utcnow
from shared.events.notify import MessageSuppressed
from shared.messaging import deferred, preload
from shared.runtime import ServiceRuntime
from shared.trace_api import TraceRecord
from shared.uow import Emit, UnitOfWork

from .config import Config
from .models import OPTIONAL_CATEGORIES, Message, Recipient, WechatRefusal

SENDER_WAKEUP = "notify.sender"


def sender_wakeup(rt: ServiceRuntime) -> threading.Event:
    """What the sender waits on between polls: set after a commit that queued a message, and
    by a stopping worker."""
    return rt.wakeup(SENDER_WAKEUP)


_INSERT_ONCE: dict[str, object] = {}


def insert_once(session: Session, **values) -> bool:
    """Insert a message unless one exists for its (event, recipient, channel); True if inserted."""
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_ONCE.get(dialect)
    if stmt is None:
        # One Core statement per dialect, values bound at execution: compiled once, cached.
        insert = upsert_insert(session)
        table = Message.__table__
        stmt = _INSERT_ONCE[dialect] = insert(table).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(stmt, _message_row(values)).first() is not None


def insert_once_at_commit(session: Session, **values) -> None:
    """`insert_once` for a message nobody waits on (an inbox message): written with the transaction's other
    rows at COMMIT (shared/messaging/deferred.py), not by a statement of its own."""
    deferred.insert_later(session, Message.__table__, [_message_row(values)], skip_duplicates=True)


def _message_row(values: dict) -> dict:
    row = {c.name: None for c in Message.__table__.columns}
    row.update(read_at=None, lease_until=None, **values)
    # Every message is recorded by a unit of work caused by one request (a handled event carries its
    # correlation id, a background job has its own): the context knows it, whichever way the message is made.
    row["correlation_id"] = row["correlation_id"] or tracing.correlation_id()
    return row


def for_request(uow: UnitOfWork, m: Message) -> UnitOfWork:
    """The unit of work as the request that caused `m` (its correlation id): the events about a message
    (sent, failed, delivered) belong to that request's chain, whichever sending round records them."""
    return dataclasses.replace(uow, correlation_id=m.correlation_id or uow.correlation_id)


def external_channels(cfg: Config, session: Session, who: Recipient | None, template: str) -> list[str]:
    """The recipient's external channels, in their order, that can carry this template to them now."""
    if who is None:
        return []
    t = cfg.catalogue[template]
    usable = []
    for channel in json.loads(who.channels):
        if not cfg.enabled(channel) or channel == "inbox":
            continue
        if channel == "sms" and (not who.phone or not t.sms):
            continue
        if channel == "wechat" and (not who.wechat_openid or not t.wechat or session.get(
                WechatRefusal, (who.user_id, t.wechat["template_id"])) is not None):
            continue
        if (channel == "push" and not who.push_token) or (channel == "email" and not who.email):
            continue
        usable.append(channel)
    return usable


def record_message(session: Session, emit: Emit, cfg: Config, recipient_id: str, template: str, values: dict,
                   event_id: str, subject_kind: str, subject_id: str, urgent: bool = False) -> bool:
    """The inbox message and the first usable external channel's message, each once. True if a
    message was queued for the sender. `urgent`: urgent whatever the template says (a 特急 or 紧急
    work order, rules.json `urgent_orders`)."""
    t = cfg.catalogue[template]
    who = preload.get(session, Recipient, recipient_id)
    lang = who.lang if who else "zh"
    title, body = cfg.catalogue.render(template, values, lang)
    now = utcnow()
    base = dict(event_id=event_id, recipient_id=recipient_id, template=template, subject_kind=subject_kind,
                subject_id=subject_id, title=title[:100], body=body, created_at=now, category=t.category,
                urgent=t.urgent or urgent, template_version=t.version,
                variables=json.dumps({k: values.get(k) for k in t.variables}, ensure_ascii=False, default=str),
                attempts=0)
    insert_once_at_commit(session, id=str(uuid.uuid4()), channel="inbox", status="delivered", delivered_at=now, **base)
    channels = external_channels(cfg, session, who, template)
    if not channels:
        return False
    muted = t.category in OPTIONAL_CATEGORIES and t.category in json.loads(who.opt_outs)
    message_id = str(uuid.uuid4())
    inserted = insert_once(session, id=message_id, channel=channels[0],
                           status="suppressed" if muted else "queued", reason="opted_out" if muted else None,
                           next_attempt_at=None if muted else now, **base)
    if inserted and muted:
        emit(MessageSuppressed(message_id=message_id, event_id=event_id, recipient_id=recipient_id,
                               channel=channels[0], template=template, at=now, reason="opted_out"))
    return inserted and not muted


def fall_back(session: Session, cfg: Config, m: Message, now: datetime) -> bool:
    """Queue the message on the recipient's next usable channel not tried yet for this event."""
    if m.channel in ("webhook", "platform"):
        return False  # a system's own endpoint: no other channel reaches it
    session.flush()  # a refusal recorded just now must count
    who = session.get(Recipient, m.recipient_id)
    tried = set(session.scalars(select(Message.channel).where(Message.event_id == m.event_id,
                                                              Message.recipient_id == m.recipient_id)))
    for channel in external_channels(cfg, session, who, m.template):
        if channel in tried:
            continue
        return insert_once(session, id=str(uuid.uuid4()), event_id=m.event_id, recipient_id=m.recipient_id,
                           channel=channel, template=m.template, subject_kind=m.subject_kind,
                           subject_id=m.subject_id, title=m.title, body=m.body, status="queued",
                           created_at=now, category=m.category, urgent=m.urgent,
                           template_version=m.template_version, variables=m.variables, attempts=0,
                           next_attempt_at=now, fallback_from=m.id, correlation_id=m.correlation_id)
    return False


def traced(session: Session, correlation_ids: list[str]) -> list[TraceRecord]:
    """Notify's part of a request's trace besides its events: the messages the request caused, by id,
    channel, template and state (never their text or address)."""
    rows = session.scalars(select(Message).where(Message.correlation_id.in_(correlation_ids))
                           .order_by(Message.created_at).limit(trace_api.MAX_ENTRIES))
    return [TraceRecord(service="notify", kind="message", id=m.id, event_id=m.event_id, correlation_id=m.correlation_id,
                        at=m.created_at, detail={"channel": m.channel, "template": m.template, "status": m.status,
                                                 "subject_kind": m.subject_kind, "subject_id": m.subject_id})
            for m in rows]


trace_api.contribute("notify", traced)
