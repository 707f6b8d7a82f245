"""Who hears about each event (data/rules.json), with which template.

Recorded in the consumer's transaction: an inbox message (delivered at once) and one queued
message on the recipient's first usable external channel, each at most once per (event,
recipient, channel). The sender delivers the queue outside any consumer transaction, so a slow
provider never holds the consumer.
"""

import logging
import threading
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from shared.config import local_zone
from shared.events import Envelope, Payload
from shared.messaging.outbox import wake_after_commit
from shared.uow import Emit

from . import callers, cases, directory
from .config import Config, Rule
from .messages import record_message
from .templates import TemplateError

log = logging.getLogger(__name__)


def fields_of(payload: Payload, facts: dict) -> dict:
    """What the rules read: the payload's fields, and the case's facts (cases.py) where the payload
    has no value of its own (routing's events do not carry the urgency or the requester of every case)."""
    return {**facts, **{name: value for name, value in payload if value is not None or name not in facts}}


def local_time(value: datetime, now: datetime) -> str:
    """A time as people read it in a message written at `now` (local time): the year only when it is not
    that year's, so a session on 2020-01-01 does not read as next New Year's Day, nor a deadline in January
    told in December as this January."""
    zone = local_zone()
    value = value.astimezone(zone)
    return value.strftime("%m-%d %H:%M" if value.year == now.astimezone(zone).year else "%Y-%m-%d %H:%M")


def event_values(fields: dict, rule: Rule, names: Iterable[str], now: datetime) -> dict:
    """The values of the template's variables `names`: the fields (or the one `rule.vars` names instead),
    times as people read them (local_time). Only those: an event's facts are some forty fields, and every
    message of it is rendered from a handful."""
    values = {}
    for name in names:
        value = fields.get(rule.vars.get(name, name))
        values[name] = local_time(value, now) if isinstance(value, datetime) else value
    return values


def audience(session: Session, cfg: Config, fields: dict, spec: str) -> list[str]:
    kind, _, field = spec.rpartition(":")
    value = fields.get(field)
    ids = [v for v in (value if isinstance(value, list) else [value]) if v]
    if kind == "supervisor_of":
        return directory.supervisors_of(session, cfg.rules, ids[0] if ids else None)
    if kind == "staff_of":
        return directory.staff_of(session, ids)
    return list(dict.fromkeys(ids))


def announce(session: Session, emit: Emit, cfg: Config, envelope: Envelope, payload: Payload,
             wake: threading.Event, secrets: cases.Secrets | None = None) -> None:
    """Record the messages the rules ask for; wake the sender if any of them waits for it (an
    inbox message needs no sender). The rules are read in order: someone two rules reach hears the
    first (a message is recorded once per event, recipient and channel). A hotline caller without an
    account (`to: "caller"`) is sent an SMS only (callers.py)."""
    fields = fields_of(payload, cases.facts(session, cfg, envelope, payload, secrets))
    queued = False
    for rule in cfg.rules.events.get(payload.event_type, []):
        if not rule.applies(fields):
            continue
        values = event_values(fields, rule, cfg.catalogue[rule.template].variables, envelope.occurred_at)
        urgent = cfg.rules.urgent_orders.applies(rule.template, fields.get("urgency"))
        try:
            cfg.catalogue.render(rule.template, values)
        except TemplateError as exc:
            # A value this event lacks or that breaks its template fails the same way on every retry:
            # the rule tells nobody rather than the event going to the dead-letter queue with the
            # other rules' messages, the digest and the webhooks. The text names the rule, never a value.
            log.warning("notify: %s → %s not sent: %s", payload.event_type, rule.template, exc)
            continue
        for recipient_id in audience(session, cfg, fields, rule.to):
            if callers.is_caller(recipient_id):
                queued |= secrets is not None and callers.record_sms(
                    session, emit, cfg, secrets.keys, recipient_id, rule.template, values, envelope.id,
                    envelope.subject.kind, envelope.subject.id)
                continue
            queued |= record_message(session, emit, cfg, recipient_id, rule.template, values, envelope.id,
                                     envelope.subject.kind, envelope.subject.id, urgent=urgent)
    if queued:
        wake_after_commit(session, wake)
