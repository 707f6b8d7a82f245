"""An email address becomes a contact only once its owner proves it is hers: by the code mailed to it.

PUT /me/contacts with an email does not make it a contact. The address is kept *pending* (an
EmailCheck, sealed at rest, one per person) and a one-time code is mailed to it through the email
channel, queued as identity's sign-in codes are (codes.queue_sealed: the address and the code
sealed in the message row, opened by the sender only, cleared once settled; the mail's text is the
template's email section, rendered at send time). POST /me/contacts/email/verify with that code
makes the address Recipient.email, the only address the email channel ever uses. Until then the
email verified before (if any) stays in use: nothing changes for her until the new one is proven.

The code: `digits` digits (6), valid `ttl_seconds` (15 minutes), kept only as a keyed hash bound to
the person and to this code (the blind index, "email-code:<user>:<code id>"), so no code is ever
stored readable and one person's code proves nothing for another. Every try counts; `max_attempts`
(5) wrong tries burn it. Asking again (the same address or another) replaces the code, and a code
mail not sent yet is withdrawn.

Codes mailed are limited per person and per address (shared/ratelimit.py, the address counted by
its keyed hash): 429 rate.limited with Retry-After; so nobody can use us to flood a mailbox, however
many accounts they hold. Tries are limited per person on top of the attempts per code.

An empty email removes both the verified address and any pending one, at once (and withdraws a code
mail not sent yet). Setting the verified address again proves nothing new: any pending one is
dropped. Staff emails from the roster (seed.py) are the deployment's word, like staff phones:
verified on arrival.
"""

import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events.notify import MessageSuppressed
from shared.keys import BlindIndex, DataKeys
from shared.ratelimit import Limiter, limit
from shared.uow import Emit

from . import codes
from .config import Config
from .models import EmailCheck, Message, Recipient

TEMPLATE = "contact.email_code"
LIMITS = {
    # Codes mailed to one person's requests: fixing a typo takes two or three.
    "notify.email_code.user": "5/hour",
    # Codes mailed to one address, whoever asks: what a stranger's mailbox can be sent by us at most.
    "notify.email_code.address": "10/day",
    # Tries: wrong ones burn a code after max_attempts anyway; this bounds a flood of requests.
    "notify.email_verify.user": "30/hour",
}
Outcome = Literal["verified", "missing", "expired", "used_up", "wrong"]
REFUSALS: dict[str, str] = {"missing": "notify.email_code_missing", "expired": "notify.email_code_expired",
                            "used_up": "notify.email_code_used_up", "wrong": "notify.email_code_wrong"}


def verify_limit():
    """The route dependency limiting tries per person."""
    return limit("notify.email_verify.user", LIMITS["notify.email_verify.user"], per="user")


def _code_hash(index: BlindIndex, user_id: str, code_id: str, code: str) -> str:
    return index(code, f"email-code:{user_id}:{code_id}")


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _serialise(session: Session, user_id: str) -> None:
    """One person's requests take turns (PostgreSQL), so two at once cannot both insert her check.
    SQLite serialises writers by itself."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                        {"key": f"notify.email_check:{user_id}"})


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    attempts: int  # tries of this code so far

    def raise_if_refused(self) -> None:
        """422 with the refusal's code; the try is kept (counted), as is its audit entry."""
        if self.outcome != "verified":
            raise ApiError(422, REFUSALS[self.outcome], field="code", keep=True)


@dataclass(frozen=True)
class EmailChecks:
    """What asking for and checking a code needs of the runtime."""

    cfg: Config
    keys: DataKeys
    index: BlindIndex
    limiter: Limiter
    wake: threading.Event

    def request(self, session: Session, emit: Emit, who: Recipient, address: str, now: datetime) -> str | None:
        """Keep `address` pending and mail it a new code; the code's id, or None when there is
        nothing to prove (it is her verified email already). 422 notify.email_unavailable without
        an email channel; 429 rate.limited past the limits per person and per address."""
        _serialise(session, who.user_id)
        check = session.get(EmailCheck, who.user_id)
        if who.email and _same(who.email, address):
            if check is not None:
                drop(session, emit, check, now)
            return None
        if not self.cfg.enabled("email"):
            raise ApiError(422, "notify.email_unavailable", field="email")
        for name, key in (("notify.email_code.user", f"u:{who.user_id}"),
                          ("notify.email_code.address", "e:" + self.index(address.casefold(), "email"))):
            self.limiter.hit(name, LIMITS[name], key)
        if check is None:
            check = EmailCheck(user_id=who.user_id)
            session.add(check)
        else:
            withdraw(session, emit, check, now)
        policy = self.cfg.email_check
        code = f"{secrets.randbelow(10 ** policy.digits):0{policy.digits}d}"
        check.address, check.code_id, check.created_at = address, str(uuid.uuid4()), now
        check.code_hash = _code_hash(self.index, who.user_id, check.code_id, code)
        check.expires_at, check.attempts = now + timedelta(seconds=policy.ttl_seconds), 0
        codes.queue_sealed(session, emit, self.cfg, self.keys, self.wake, channel="email", template=TEMPLATE,
                           event_id=check.code_id, recipient_id=f"email-check:{check.code_id}",
                           subject_kind="email_check", subject_id=who.user_id, address=address,
                           values={"code": code, "minutes": str(policy.ttl_seconds // 60)}, until=check.expires_at,
                           lang=who.lang)
        return check.code_id

    def verify(self, session: Session, who: Recipient, code: str, now: datetime) -> Verdict:
        """Is `code` the code of her pending address, unexpired and not burnt? The try is counted;
        the right one makes the address her email and ends the check."""
        check = session.scalars(select(EmailCheck).where(EmailCheck.user_id == who.user_id)
                                .with_for_update()).first()
        # The HMAC is computed whatever is found, so the time taken tells nothing.
        candidate = _code_hash(self.index, who.user_id, (check.code_id if check is not None else None) or "none",
                               code)
        if check is None or check.code_hash is None:
            return Verdict("missing", 0)
        most = self.cfg.email_check.max_attempts
        if check.attempts >= most:
            return Verdict("used_up", check.attempts)
        if check.expires_at <= now:
            return Verdict("expired", check.attempts)
        check.attempts += 1
        if hmac.compare_digest(candidate, check.code_hash):
            who.email, who.updated_at = check.address, now
            session.delete(check)
            return Verdict("verified", check.attempts)
        return Verdict("used_up" if check.attempts >= most else "wrong", check.attempts)


def pending(session: Session, user_id: str) -> str | None:
    """The address awaiting proof, if any (as this transaction left it)."""
    session.flush()
    check = session.get(EmailCheck, user_id)
    return check.address if check is not None else None


def remove(session: Session, emit: Emit, who: Recipient, now: datetime) -> None:
    """No email any more, verified or pending: at once."""
    who.email = None
    check = session.get(EmailCheck, who.user_id)
    if check is not None:
        drop(session, emit, check, now)


def drop(session: Session, emit: Emit, check: EmailCheck, now: datetime) -> None:
    withdraw(session, emit, check, now)
    session.delete(check)


def withdraw(session: Session, emit: Emit, check: EmailCheck, now: datetime) -> None:
    """The check's code mail, if not sent yet, is not sent (a code mail being sent right now goes:
    its code no longer proves anything)."""
    if check.code_id is None:
        return
    for m in session.scalars(select(Message).where(Message.event_id == check.code_id, Message.status == "queued")):
        m.status, m.reason, m.sealed, m.next_attempt_at = "suppressed", "code replaced or withdrawn", None, None
        emit(MessageSuppressed(message_id=m.id, event_id=m.event_id, recipient_id=m.recipient_id, channel=m.channel,
                               template=m.template, at=now, reason=m.reason))
