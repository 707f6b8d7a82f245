"""Write-back to the city's 12345 hotline platform (12345 热线平台工单回写).

A case the platform gave us (intake.case.submitted with `external_source` equal to platform.json
`source`, "12345") is known by the platform's order number (`external_no`, kept in the case's facts,
cases.py). As it is handled, the platform is told each status platform.json `statuses` maps — signed
for, contacted, returned with its reason, extended (the new deadline), resolved (outcome and result),
the resident's evaluation — in the platform's own JSON shape (platform.json `fields`), signed
(channels/platform.py). Only the lead work order's events: an assisting unit's sign-for is not the
order's.

Each write-back is a message on the channel "platform" (the sender's claim, back-off, dead letters) and a
PlatformUpdate of the same id holding the body, sealed (a result's or a return's text is a handler's
words; only the public text is sent: phones and ID numbers masked, as Open311 shows it). **In order per
order number**: the sender claims a write-back only when no earlier one of the same order (by when its
event happened, then by when notify recorded it) is still queued or being sent, so a later status is never
sent before an earlier one succeeded or was given up (dead-lettered: refused, or its retries, platform.json
`retry_delays_seconds`, exhausted). An admin reads the log of an order number and re-sends one.

Notify learns the order number from intake.case.submitted: an event of the case handled before it (which
routing cannot publish before it consumed the submission) would not be written back.
"""

import json
import threading
import uuid
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from shared.config import local_zone
from shared.db import utcnow
from shared.errors import ApiError
from shared.events import Envelope, Payload
from shared.masking import mask_free_text
from shared.messaging.outbox import wake_after_commit

from . import delivery
from .config import Config, PlatformConfig
from .messages import insert_once
from .models import CaseFacts, Message, PlatformUpdate

CHANNEL = "platform"


def recipient(config: PlatformConfig) -> str:
    return f"platform:{config.source}"


def _time(config: PlatformConfig, value: datetime) -> str:
    return value.astimezone(local_zone()).strftime(config.time_format)


def _public(text: str | None) -> str | None:
    """What anyone may read of a handler's text: phones and ID numbers masked (as Open311 shows a result)."""
    return mask_free_text(text) if text else None


def body_of(config: PlatformConfig, external_no: str, payload: Payload) -> dict:
    """The write-back in the platform's shape: the order, its status and time, and what this status adds."""
    f, status = config.fields, config.statuses[payload.event_type]
    out = {f["order_no"]: external_no, f["status"]: status.code, f["status_name"]: status.name,
           f["time"]: _time(config, payload.at), f["case_no"]: payload.case_no}
    if unit := getattr(payload, "unit_name", None):
        out[f["unit"]] = unit
    match payload.event_type:
        case "routing.case.dispatched" if payload.result_deadline is not None:
            out[f["deadline"]] = _time(config, payload.result_deadline)
        case "routing.case.returned":
            out[f["reason"]], out[f["legal_basis"]] = _public(payload.reason), _public(payload.legal_basis)
        case "routing.case.extension_requested":
            out[f["reason"]] = _public(payload.reason)
        case "routing.case.extended":
            out[f["deadline"]] = _time(config, payload.new_result_deadline)
        case "routing.case.resolved":
            out[f["outcome"]], out[f["result"]] = config.outcomes[payload.outcome], _public(payload.result_text)
        case "routing.case.closed" if payload.outcome is not None:
            out[f["outcome"]] = config.outcomes[payload.outcome]
        case "intake.case.evaluated":
            if payload.contacted is not None:
                out[f["contacted"]] = "1" if payload.contacted else "0"
            if payload.solved is not None:
                out[f["solved"]] = "1" if payload.solved else "0"
            rated = payload.satisfaction if payload.evaluated and payload.satisfaction else "none"
            out[f["satisfaction"]] = config.satisfaction[rated]
    return out


def queue_update(session: Session, cfg: Config, envelope: Envelope, payload: Payload, wake: threading.Event) -> None:
    """The write-back of this event, once, if the event is about a case of the platform and one it hears."""
    config = cfg.platform
    if not config.enabled or envelope.subject.kind != "case" or payload.event_type not in config.statuses:
        return
    case_id = envelope.subject.id
    row = session.get(CaseFacts, case_id)
    if row is None or row.external_source != config.source or not row.external_no:
        return
    order = getattr(payload, "work_order_id", None)
    if payload.event_type == "routing.case.dispatched" and payload.role != "lead":
        return
    if payload.event_type.startswith("routing.") and row.lead_work_order_id not in (None, order):
        return  # an assisting unit's step, or an earlier lead order's late news: not the order's status
    status, now, message_id = config.statuses[payload.event_type], utcnow(), str(uuid.uuid4())
    inserted = insert_once(
        session, id=message_id, event_id=envelope.id, recipient_id=recipient(config), channel=CHANNEL,
        template=payload.event_type, subject_kind="case", subject_id=case_id, title=status.name[:100],
        body=f"{row.external_no} {status.code}", status="queued", created_at=now, category=CHANNEL, urgent=False,
        template_version=envelope.version, variables="{}", attempts=0, next_attempt_at=now)
    if not inserted:
        return  # the event again: written back once
    session.add(PlatformUpdate(
        id=message_id, source=config.source, external_no=row.external_no, case_id=case_id, event_id=envelope.id,
        event_type=payload.event_type, status_code=status.code, status_name=status.name, occurred_at=payload.at,
        created_at=now, body=json.dumps(body_of(config, row.external_no, payload), ensure_ascii=False)))
    wake_after_commit(session, wake)


def in_order(messages) -> ColumnElement[bool]:
    """The sender's claim condition (`messages` is its table): a platform write-back only when no earlier one
    of its order number is still pending, by (event time, recorded at, id). A back-off, a lease held by a
    sender or one that crashed: all hold the later ones back."""
    me, earlier = aliased(PlatformUpdate), aliased(PlatformUpdate)
    other = aliased(Message)
    before = or_(earlier.occurred_at < me.occurred_at,
                 and_(earlier.occurred_at == me.occurred_at,
                      or_(earlier.created_at < me.created_at,
                          and_(earlier.created_at == me.created_at, earlier.id < me.id))))
    waiting = exists(select(earlier.id)
                     .join(me, and_(me.source == earlier.source, me.external_no == earlier.external_no))
                     .join(other, other.id == earlier.id)
                     .where(me.id == messages.c.id, other.status.in_(delivery.PENDING), before))
    return or_(messages.c.channel != CHANNEL, ~waiting)


def bodies(session: Session, ids: list[str]) -> dict[str, str]:
    """The bodies to post, opened (sealed at rest), for the sender."""
    if not ids:
        return {}
    return dict(session.execute(select(PlatformUpdate.id, PlatformUpdate.body).where(PlatformUpdate.id.in_(ids))).all())


def _log():
    # Every column but the body: the log shows what was written back and how it went, not the text.
    return (select(PlatformUpdate.external_no, PlatformUpdate.id, PlatformUpdate.case_id, PlatformUpdate.event_type,
                   PlatformUpdate.status_code, PlatformUpdate.status_name, PlatformUpdate.occurred_at, Message)
            .join(Message, Message.id == PlatformUpdate.id))


def log_of(session: Session, config: PlatformConfig, external_no: str, limit: int) -> list[tuple]:
    """The write-backs of one order number, in the order they are sent, with their deliveries."""
    return list(session.execute(
        _log().where(PlatformUpdate.source == config.source, PlatformUpdate.external_no == external_no)
        .order_by(PlatformUpdate.occurred_at, PlatformUpdate.created_at, PlatformUpdate.id).limit(limit)).all())


def log_entry(session: Session, update_id: str) -> tuple:
    return session.execute(_log().where(PlatformUpdate.id == update_id)).one()


def update_of(session: Session, update_id: str) -> Message:
    m = session.get(Message, update_id)
    if m is None or m.channel != CHANNEL:
        raise ApiError(404, "not_found", field="update_id")
    return m


def resend(session: Session, cfg: Config, m: Message, wake: threading.Event) -> None:
    """Send one write-back again from its first attempt (the platform lost it, or refused it and was fixed).
    It takes its place in its order's sequence again: later ones not yet sent wait for it."""
    if not cfg.platform.enabled:
        raise ApiError(409, "notify.platform_off", field="update_id")
    delivery.resend(session, m, wake)
