"""Who hears about each event (data/rules.json), with which template.

Recorded in the consumer's transaction: an inbox message (delivered at once) and one queued
message on the recipient's first usable external channel, each at most once per (event,
recipient, channel). The sender delivers the queue outside any consumer transaction, so a slow
provider never holds the consumer.
"""

import threading
from datetime import datetime

from sqlalchemy.orm import Session

from shared.config import local_zone
from shared.events import Envelope, Payload
from shared.messaging.outbox import wake_after_commit
from shared.uow import Emit

from . import directory
from .config import Config, Rule
from .messages import record_message


def event_values(payload: Payload, rule: Rule) -> dict:
    """The template's values: the payload's fields, times as people read them (local time)."""
    values = {}
    for name, value in payload:
        values[name] = value.astimezone(local_zone()).strftime("%m-%d %H:%M") if isinstance(value, datetime) else value
    for name, source in rule.vars.items():
        values[name] = values.get(source)
    return values


def audience(session: Session, cfg: Config, payload: Payload, spec: str) -> list[str]:
    kind, _, field = spec.rpartition(":")
    value = getattr(payload, field, None)
    ids = [v for v in (value if isinstance(value, list) else [value]) if v]
    if kind == "supervisor_of":
        return directory.supervisors_of(session, cfg.rules, ids[0] if ids else None)
    if kind == "staff_of":
        return directory.staff_of(session, ids)
    return list(dict.fromkeys(ids))


def announce(session: Session, emit: Emit, cfg: Config, envelope: Envelope, payload: Payload,
             wake: threading.Event) -> None:
    """Record the messages the rules ask for; wake the sender if any of them waits for it (an
    inbox message needs no sender)."""
    queued = False
    for rule in cfg.rules.events.get(payload.event_type, []):
        if any(getattr(payload, k, None) != v for k, v in rule.when.items()):
            continue
        values = event_values(payload, rule)
        for recipient_id in audience(session, cfg, payload, rule.to):
            queued |= record_message(session, emit, cfg, recipient_id, rule.template, values, envelope.id,
                                     envelope.subject.kind, envelope.subject.id)
    if queued:
        wake_after_commit(session, wake)
