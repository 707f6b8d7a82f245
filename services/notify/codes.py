"""One-time codes notify sends: identity's sign-in codes by SMS, and notify's own codes that prove
an email address (email_checks.py) by email. Both go to an address that is no recipient's contact
(yet): a number that may belong to nobody notify knows (the resident signs in for the first time),
an address awaiting proof; so no recipient entry and no inbox message.

One way to queue them (`queue_sealed`): the address and the values (the code) are sealed for the
message row (`Message.sealed`, bound to the message's id); the sender opens that when it sends,
and it is cleared once the message is settled (delivery.settle). Neither the address nor the code
is ever kept in clear: the row's title and body say only that a code was sent, its variables are
empty. Urgent and of a category nobody can opt out of, so quiet hours never hold it; a code
already expired is not sent.

identity.code.requested carries the phone and the code sealed by identity for its challenge. They
are opened here only to check them, then sealed again for the message row.
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
from shared.keys import DataKeys, data_keys
from shared.messaging.outbox import wake_after_commit
from shared.runtime import ServiceRuntime
from shared.uow import Emit

from .config import Config
from .messages import insert_once

TEMPLATE = "auth.code"
KEYS = "notify.data_keys"


def keys_of(rt: ServiceRuntime) -> DataKeys:
    """The deployment's data keys (CG_DATA_KEYS), read once per runtime: what seals a code's message."""
    found = rt.cache.get(KEYS)
    if found is None:
        found = rt.cache[KEYS] = data_keys(rt.settings)
    return found


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
    lang: str = "zh"


def seal_for(keys: DataKeys, message_id: str, address: str, values: dict, until: datetime | None,
             lang: str = "zh") -> str:
    body = {"to": address, "values": values, "until": until.isoformat() if until else None, "lang": lang}
    return keys.seal(json.dumps(body), _message_context(message_id))


def open_sealed(keys: DataKeys, message_id: str, sealed: str) -> Opened:
    body = json.loads(keys.open(sealed, _message_context(message_id)))
    return Opened(body["to"], body["values"], datetime.fromisoformat(body["until"]) if body["until"] else None,
                  body.get("lang", "zh"))


def queue_sealed(session: Session, emit: Emit, cfg: Config, keys: DataKeys, wake: threading.Event, *, channel: str,
                 template: str, event_id: str, recipient_id: str, subject_kind: str, subject_id: str, address: str,
                 values: dict, until: datetime, lang: str = "zh") -> str | None:
    """One message that carries its own address and values, sealed, queued once per (event_id,
    recipient_id, channel). Not sent (suppressed, recorded) when the channel has no provider
    configured or `until` passed before it could be queued. Returns the message's id if queued."""
    now = utcnow()
    t = cfg.catalogue[template]
    title, body = cfg.catalogue.render(template, values, lang)
    message_id = str(uuid.uuid4())
    row = dict(id=message_id, event_id=event_id, recipient_id=recipient_id, channel=channel, template=template,
               subject_kind=subject_kind, subject_id=subject_id, title=title[:100], body=body, created_at=now,
               category=t.category, urgent=t.urgent, template_version=t.version, variables="{}", attempts=0)
    reason = (f"{channel}: no provider configured" if not cfg.enabled(channel)
              else "code expired before it could be sent" if until <= now else None)
    if reason is not None:
        if insert_once(session, status="suppressed", reason=reason, **row):
            emit(MessageSuppressed(message_id=message_id, event_id=event_id, recipient_id=recipient_id,
                                   channel=channel, template=template, at=now, reason=reason))
        return None
    sealed = seal_for(keys, message_id, address, values, until, lang)
    if insert_once(session, status="queued", next_attempt_at=now, sealed=sealed, **row):
        wake_after_commit(session, wake)
        return message_id
    return None


def queue_code(session: Session, emit: Emit, cfg: Config, keys: DataKeys, envelope: Envelope, e: CodeRequested,
               wake: threading.Event) -> None:
    """The SMS for one sign-in code, queued once per event."""
    # A seal that does not open (another key, another challenge's value) raises: the consumer
    # retries and then dead-letters the event, with the exception's type only in the log.
    phone = keys.open(e.phone_sealed, phone_seal_context(e.challenge_id))
    code = keys.open(e.code_sealed, code_seal_context(e.challenge_id))
    queue_sealed(session, emit, cfg, keys, wake, channel="sms", template=TEMPLATE, event_id=envelope.id,
                 recipient_id=f"challenge:{e.challenge_id}", subject_kind="challenge", subject_id=e.challenge_id,
                 address=sms_address(phone), values={"code": code}, until=e.expires_at)
