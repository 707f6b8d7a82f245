"""One-time SMS codes: issued within per-number and per-address limits, sent through notify,
checked once.

Identity sends no SMS: it emits `identity.code.requested` with the phone and the code sealed for
notify (AES-GCM, the context bound to the challenge, so a sealed value cannot be replayed into
another challenge). Here a code is kept only as an HMAC bound to its challenge
(blind_index(code, "code:<challenge id>")), compared in constant time. The newest challenge of
the number (for its purpose) is the one checked, if unexpired; every try counts, `max_attempts`
tries kill it, the right code consumes it. Whether the number belongs to anyone plays no part.

The development inbox (embedded mode only, when no real SMS provider is configured) also keeps
the code sealed, for GET /identity/v1/dev/sms-codes, which answers a client on this machine only
(a loopback address, not relayed by a proxy): an embedded install reachable from a network never
shows anyone residents' live codes.
"""

import hmac
import ipaddress
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.errors import ApiError
from shared.events.identity import CodeRequested, code_seal_context, phone_seal_context
from shared.keys import BlindIndex, DataKeys
from shared.phones import BadPhone, normalise
from shared.uow import Emit

from . import audit, config
from .audit import Client
from .models import CodeChallenge

HOUR = timedelta(hours=1)
PURPOSES = ("sign_in", "link_phone")


def _dev_context(challenge_id: str) -> str:
    return f"dev-code:{challenge_id}"


def _code_hash(index: BlindIndex, code: str, challenge_id: str) -> str:
    return index(code, f"code:{challenge_id}")


def phone_or_refuse(session: Session, client: Client, method: str, raw: str, user_id: str | None = None) -> str:
    """The number in E.164 if it is a mobile one (an SMS must reach it) of a region codes are sent
    to (sms_code.regions: mainland China unless configured otherwise, so nobody has us pay for
    texts to premium numbers abroad); otherwise the attempt is recorded and refused with 422
    signin.bad_phone."""
    try:
        phone = normalise(raw, mobile=True)
    except BadPhone:
        phone = None
    if phone is None or phonenumbers.region_code_for_number(phonenumbers.parse(phone)) \
            not in config.get().sms_code.regions:
        audit.record(session, client, method, "signin.bad_phone", user_id=user_id)
        raise ApiError(422, "signin.bad_phone", field="phone", keep=True)
    return phone


def dev_inbox_on(settings: Settings) -> bool:
    """Embedded mode, the inbox asked for in identity.json, and no real SMS provider configured."""
    return settings.mode == "embedded" and config.get().sms_code.dev_inbox_allowed


def loopback(ip: str | None) -> bool:
    """127.0.0.0/8 or ::1 (also as an IPv4-mapped IPv6 address); not a name, not another address."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass(frozen=True)
class Sent:
    challenge_id: str
    expires_in: int
    resend_after: int | None  # seconds before another code for this number or address is accepted


def _serialise(session: Session, phone_index: str) -> None:
    """Requests for one number take turns (PostgreSQL), so two at once cannot both take the last
    code of the hour. SQLite serialises writers by itself."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                        {"key": f"identity.code:{phone_index}"})


def _wait(session: Session, column, value: str | None, limit: int, now: datetime) -> int:
    """Seconds until fewer than `limit` codes of the last hour carry this value (0: one may go now)."""
    if value is None:
        return 0
    times = session.scalars(select(CodeChallenge.created_at).where(column == value,
                                                                   CodeChallenge.created_at > now - HOUR)
                            .order_by(CodeChallenge.created_at.desc()).limit(limit)).all()
    if len(times) < limit:
        return 0
    return max(1, math.ceil((times[-1] + HOUR - now).total_seconds()))


def request(session: Session, emit: Emit, settings: Settings, index: BlindIndex, keys: DataKeys, client: Client,
            raw_phone: str, purpose: str, now: datetime, *, user_id: str | None = None) -> Sent:
    """A new code for the number, sent by notify. The same answer whether or not anyone has the
    number; 429 signin.code_limit (with Retry-After) past the hourly limits. A code to link a phone
    is for a signed-in user only."""
    policy = config.get().sms_code
    method = "sms_code"
    if purpose == "link_phone" and user_id is None:
        raise ApiError(401, "auth.missing_token")
    phone = phone_or_refuse(session, client, method, raw_phone, user_id)
    phone_index = index(phone, "phone")
    ip_index = index(client.ip, "ip") if client.ip else None
    _serialise(session, phone_index)
    wait = max(_wait(session, CodeChallenge.phone_index, phone_index, policy.per_phone_per_hour, now),
               _wait(session, CodeChallenge.ip_index, ip_index, policy.per_ip_per_hour, now))
    if wait:
        audit.record(session, client, method, "signin.code_limit", user_id=user_id, identifier_index=phone_index)
        raise ApiError(429, "signin.code_limit", keep=True, headers={"Retry-After": str(wait)})
    challenge_id = str(uuid.uuid4())
    code = f"{secrets.randbelow(10 ** policy.digits):0{policy.digits}d}"
    expires = now + timedelta(seconds=policy.ttl_seconds)
    session.add(CodeChallenge(
        id=challenge_id, purpose=purpose, phone_index=phone_index, phone_sealed=keys.seal(phone, "phone"),
        code_hash=_code_hash(index, code, challenge_id), ip_index=ip_index, created_at=now, expires_at=expires,
        attempts=0, dev_code_sealed=keys.seal(code, _dev_context(challenge_id)) if dev_inbox_on(settings) else None))
    emit(CodeRequested(challenge_id=challenge_id, purpose=purpose,
                       phone_sealed=keys.seal(phone, phone_seal_context(challenge_id)),
                       code_sealed=keys.seal(code, code_seal_context(challenge_id)), expires_at=expires, at=now))
    audit.record(session, client, method, "ok", user_id=user_id, identifier_index=phone_index)
    session.flush()
    resend = max(_wait(session, CodeChallenge.phone_index, phone_index, policy.per_phone_per_hour, now),
                 _wait(session, CodeChallenge.ip_index, ip_index, policy.per_ip_per_hour, now))
    return Sent(challenge_id, policy.ttl_seconds, resend or None)


def check(session: Session, index: BlindIndex, phone_index: str, code: str, purpose: str, now: datetime) -> bool:
    """Is `code` the code of the number's newest challenge for this purpose, unexpired, unused and
    not dead? A newer code replaces the older ones. The try is counted (the caller keeps it with
    ApiError(keep=True) when refusing); the right code, within the attempts allowed, consumes the
    challenge, so it never works twice."""
    policy = config.get().sms_code
    row = session.scalars(select(CodeChallenge)
                          .where(CodeChallenge.phone_index == phone_index, CodeChallenge.purpose == purpose)
                          .order_by(CodeChallenge.created_at.desc()).limit(1).with_for_update()).first()
    # The HMAC is computed whatever is found, so the time taken tells nothing.
    candidate = _code_hash(index, code, row.id if row is not None else "none")
    if row is None:
        return False
    usable = row.consumed_at is None and row.attempts < policy.max_attempts and row.expires_at > now
    row.attempts += 1
    if usable and hmac.compare_digest(candidate, row.code_hash):
        row.consumed_at = now
        return True
    return False


@dataclass(frozen=True)
class DevCode:
    code: str | None
    purpose: str
    created_at: datetime
    expires_at: datetime
    status: str  # active | used | dead | expired


def dev_inbox(session: Session, settings: Settings, index: BlindIndex, keys: DataKeys, raw_phone: str,
              now: datetime, *, local: bool, limit: int = 5) -> list[DevCode]:
    """The latest codes sent to a number, readable: development only, and to a client on this
    machine only (`local`); 404 dev.disabled otherwise."""
    if not (local and dev_inbox_on(settings)):
        raise ApiError(404, "dev.disabled")
    try:
        phone = normalise(raw_phone, mobile=True)
    except BadPhone:
        raise ApiError(422, "signin.bad_phone", field="phone") from None
    max_attempts = config.get().sms_code.max_attempts
    rows = session.scalars(select(CodeChallenge).where(CodeChallenge.phone_index == index(phone, "phone"))
                           .order_by(CodeChallenge.created_at.desc()).limit(limit))
    out = []
    for row in rows:
        status = ("used" if row.consumed_at else "dead" if row.attempts >= max_attempts
                  else "expired" if row.expires_at <= now else "active")
        code = keys.open(row.dev_code_sealed, _dev_context(row.id)) if row.dev_code_sealed else None
        out.append(DevCode(code, row.purpose, row.created_at, row.expires_at, status))
    return out
