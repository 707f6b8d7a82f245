"""SMS to a hotline caller without an account (热线来电人), who consented to be told.

Staff filed the case for her (the hotline, a letter, a walk-in, the 12345 platform's import), she gave
her phone and consented, she is not anonymous and has no resident account (one with an account is
told in the app): intake.case.submitted then carries her phone sealed for notify
(`caller_phone_sealed`, context `intake-caller-phone:<case id>`). Notify keeps it sealed in the case's
facts (cases.py, with its blind index) until the case is closed, and the rules (rules.json, `to:
"caller"`) send her the progress by SMS only: no inbox, no other channel, no preferences of her own.

Her messages' recipient is "caller:<case id>". Each carries its own sealed copy of her number (the
message's `sealed`, as a code's; cleared once settled), so a message still waiting when the case is
closed still goes. The sender treats her like a resident with the defaults: quiet hours 22:00–07:00 in
the deployment's zone, at most `SMS_DAILY_LIMIT` SMS of one template a day to the number (counted with
every other SMS to it). The templates (caller.*) name the case number and its status, nothing of the
matter: she may not be the only one reading her phone.
"""

import json
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.events.notify import MessageSuppressed
from shared.keys import DataKeys
from shared.uow import Emit

from .cases import CALLER
from .codes import open_sealed, seal_for
from .config import Config
from .directory import SMS_DAILY_LIMIT
from .messages import insert_once
from .models import CaseFacts


def is_caller(recipient_id: str) -> bool:
    return recipient_id.startswith(CALLER)


def record_sms(session: Session, emit: Emit, cfg: Config, keys: DataKeys, recipient_id: str, template: str,
               values: dict, event_id: str, subject_kind: str, subject_id: str) -> bool:
    """The SMS to the case's caller, once per event. True if queued for the sender."""
    t = cfg.catalogue[template]
    row = session.get(CaseFacts, recipient_id.removeprefix(CALLER))
    if row is None or not row.caller_phone or not t.sms:
        return False
    now = utcnow()
    title, body = cfg.catalogue.render(template, values)
    message_id = str(uuid.uuid4())
    base = dict(id=message_id, event_id=event_id, recipient_id=recipient_id, channel="sms", template=template,
                subject_kind=subject_kind, subject_id=subject_id, title=title[:100], body=body, created_at=now,
                category=t.category, urgent=t.urgent, template_version=t.version,
                variables=json.dumps({k: values.get(k) for k in t.variables}, ensure_ascii=False, default=str),
                attempts=0)
    if not cfg.enabled("sms"):
        # Recorded, so the delivery records say she was not told and why.
        reason = "sms: no provider configured"
        if insert_once(session, status="suppressed", reason=reason, **base):
            emit(MessageSuppressed(message_id=message_id, event_id=event_id, recipient_id=recipient_id,
                                   channel="sms", template=template, at=now, reason=reason))
        return False
    sealed = seal_for(keys, message_id, row.caller_phone, {}, None)
    return insert_once(session, status="queued", next_attempt_at=now, sealed=sealed, **base)


@dataclass(frozen=True)
class Caller:
    """What the sender needs of a caller: her number and a resident's default quiet hours and limit."""

    phone: str
    quiet_start: str = "22:00"
    quiet_end: str = "07:00"
    timezone: str | None = None  # the deployment's
    sms_daily_limit: int = SMS_DAILY_LIMIT
    lang: str = "zh"


def callers(session: Session, keys: DataKeys, rows: list) -> dict[str, Caller]:
    """The callers of the caller messages among `rows`, by recipient id: the number from the message's own
    sealed copy, else (a dead letter requeued: the copy was cleared when it was settled) from the case's facts
    while the case is open. A caller whose number is gone is absent: her message fails with no address."""
    found: dict[str, Caller] = {}
    for m in rows:
        if not is_caller(m.recipient_id) or m.channel != "sms":
            continue
        phone = None
        if m.sealed:
            try:
                phone = open_sealed(keys, m.id, m.sealed).address
            except (InvalidTag, KeyError, ValueError):
                phone = None
        if phone is None:
            row = session.get(CaseFacts, m.recipient_id.removeprefix(CALLER))
            phone = row.caller_phone if row is not None else None
        if phone:
            found[m.recipient_id] = Caller(phone)
    return found
