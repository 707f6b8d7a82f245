"""Sign-in codes from identity (`identity.code.requested`): one SMS, template auth.code, to a
number that may belong to nobody notify knows (the resident signs in for the first time), so no
recipient entry and no inbox message.

The event carries the phone and the code sealed by identity for this challenge. They are opened
here only to check them, then sealed again for the message row (`Message.sealed`, bound to the
message's id): the sender opens that when it sends, and it is cleared once the message is settled
(delivery.settle). Neither the number nor the code is ever kept in clear: the row's title and
body say only that a code was sent, its variables are empty. Urgent and of a category nobody can
opt out of, so quiet hours never hold it; a code already expired is not sent.
"""

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.events import Envelope
from shared.events.identity import CodeRequested, code_seal_context, phone_seal_context
from shared.events.notify import MessageSuppressed
from shared.keys import DataKeys
from shared.messaging.outbox import wake_after_commit
from shared.uow import Emit

from .config import Config
from .messages import insert_once

TEMPLATE = "auth.code"


def _message_context(message_id: str) -> str:
    return f"notify-message:{message_id}"


def sms_address(e164: str) -> str:
    """The number as Alibaba Cloud SMS wants it: 11 digits in mainland China, else country code and
    number without the plus."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


@dataclass(frozen=True)
class Opened:
    address: str
    values: dict
    until: datetime | None


def seal_for(keys: DataKeys, message_id: str, address: str, values: dict, until: datetime | None) -> str:
    body = {"to": address, "values": values, "until": until.isoformat() if until else None}
    return keys.seal(json.dumps(body), _message_context(message_id))


def open_sealed(keys: DataKeys, message_id: str, sealed: str) -> Opened:
    body = json.loads(keys.open(sealed, _message_context(message_id)))
    return Opened(body["to"], body["values"], datetime.fromisoformat(body["until"]) if body["until"] else None)


def queue_code(session: Session, emit: Emit, cfg: Config, keys: DataKeys, envelope: Envelope, e: CodeRequested,
               wake: threading.Event) -> None:
    """The SMS for one code, queued once per event; not sent (suppressed, recorded) when no SMS
    provider is configured or the code expired before the event arrived."""
    # A seal that does not open (another key, another challenge's value) raises: the consumer
    # retries and then dead-letters the event, with the exception's type only in the log.
    phone = keys.open(e.phone_sealed, phone_seal_context(e.challenge_id))
    code = keys.open(e.code_sealed, code_seal_context(e.challenge_id))
    now = utcnow()
    t = cfg.catalogue[TEMPLATE]
    title, body = cfg.catalogue.render(TEMPLATE, {"code": code})
    message_id = str(uuid.uuid4())
    row = dict(id=message_id, event_id=envelope.id, recipient_id=f"challenge:{e.challenge_id}", channel="sms",
               template=TEMPLATE, subject_kind="challenge", subject_id=e.challenge_id, title=title[:100], body=body,
               created_at=now, category=t.category, urgent=t.urgent, template_version=t.version, variables="{}",
               attempts=0)
    reason = ("sms: no provider configured" if not cfg.enabled("sms")
              else "code expired before it could be sent" if e.expires_at <= now else None)
    if reason is not None:
        if insert_once(session, status="suppressed", reason=reason, **row):
            emit(MessageSuppressed(message_id=message_id, event_id=envelope.id, recipient_id=row["recipient_id"],
                                   channel="sms", template=TEMPLATE, at=now, reason=reason))
        return
    sealed = seal_for(keys, message_id, sms_address(phone), {"code": code}, e.expires_at)
    if insert_once(session, status="queued", next_attempt_at=now, sealed=sealed, **row):
        wake_after_commit(session, wake)
