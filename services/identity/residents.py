"""Residents: found by their phone (a keyed hash, the number itself only sealed), created on their
first sign-in, signed in by a one-time SMS code, and a verified phone linked to a signed-in one.

A refused attempt is recorded in the audit trail and raised with `keep=True`, so the try counted
against the code and the audit row are committed with the refusal. The answers never depend on
whether the number belongs to anyone.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.errors import ApiError
from shared.keys import BlindIndex, DataKeys, SigningKeys
from shared.uow import Emit

from . import audit, codes, directory, tokens
from .audit import Client
from .models import User


def by_phone(session: Session, phone_index: str) -> User | None:
    return session.scalar(select(User).where(User.phone_index == phone_index))


def find_or_create(session: Session, emit: Emit, keys: DataKeys, phone: str, phone_index: str,
                   now: datetime) -> User:
    """The resident with this (verified) number; a new one on the first sign-in."""
    user = by_phone(session, phone_index)
    if user is None:
        user = directory.create(session, emit, kind="resident", role="resident", now=now, phone_index=phone_index,
                                phone_sealed=keys.seal(phone, "phone"))
    return user


def refuse_if_disabled(session: Session, client: Client, method: str, user: User,
                       identifier_index: str | None) -> None:
    """A disabled resident's sign-in is refused (and recorded: the refusal is kept). Called before
    anything about the account changes, so a refused sign-in changes nothing."""
    if not user.active:
        audit.record(session, client, method, "signin.failed", user_id=user.id, identifier_index=identifier_index)
        raise ApiError(401, "signin.failed", keep=True)


def start(session: Session, settings: Settings, signing: SigningKeys, client: Client, method: str, user: User,
          identifier_index: str | None, now: datetime) -> tokens.Issued:
    """The sign-in of a resident whose proof was accepted: refused (and recorded) if disabled."""
    refuse_if_disabled(session, client, method, user, identifier_index)
    issued = tokens.start(session, settings, signing, user, method, now)
    audit.record(session, client, method, "ok", user_id=user.id, identifier_index=identifier_index)
    return issued


def verified_phone(session: Session, index: BlindIndex, client: Client, method: str, raw_phone: str, code: str,
                   purpose: str, now: datetime, *, status: int = 401, user_id: str | None = None) -> tuple[str, str]:
    """(E.164, its index) when `code` is the number's current code for `purpose`; otherwise the
    attempt is counted, recorded and refused with signin.code_invalid (wrong, expired, used or dead
    alike)."""
    phone = codes.phone_or_refuse(session, client, method, raw_phone, user_id)
    phone_index = index(phone, "phone")
    if not codes.check(session, index, phone_index, code, purpose, now):
        audit.record(session, client, method, "signin.code_invalid", user_id=user_id, identifier_index=phone_index)
        raise ApiError(status, "signin.code_invalid", field="code", keep=True)
    return phone, phone_index


def sign_in_by_code(session: Session, emit: Emit, settings: Settings, signing: SigningKeys, index: BlindIndex,
                    keys: DataKeys, client: Client, raw_phone: str, code: str, now: datetime) -> tokens.Issued:
    """POST /tokens/sms: the number's code → the resident (created on the first sign-in) → tokens."""
    phone, phone_index = verified_phone(session, index, client, "sms", raw_phone, code, "sign_in", now)
    user = find_or_create(session, emit, keys, phone, phone_index, now)
    return start(session, settings, signing, client, "sms", user, phone_index, now)


def link_phone(session: Session, index: BlindIndex, keys: DataKeys, client: Client, user: User, raw_phone: str,
               code: str, now: datetime) -> User:
    """POST /me/phone: a signed-in resident proves a number with a code (purpose link_phone) and it
    becomes theirs (replacing the one they had).

    A wrong code is 422, not 401: the caller is signed in, and a 401 would tell the app its token
    is bad. A number that already belongs to another resident is refused with 409 user.phone_taken
    and nothing is moved or merged: whoever proved the number may sign in with it by SMS, but an
    account (its cases, its WeChat link) never changes hands by linking. Telling it is no leak: only
    the holder of the number, who has just read the code, learns it.
    """
    method = "link_phone"
    if user.kind != "resident":
        raise ApiError(403, "user.not_resident")
    phone, phone_index = verified_phone(session, index, client, method, raw_phone, code, "link_phone", now,
                                        status=422, user_id=user.id)
    owner = by_phone(session, phone_index)
    if owner is not None and owner.id != user.id:
        # The code is consumed all the same (keep): it did its one job.
        audit.record(session, client, method, "user.phone_taken", user_id=user.id, identifier_index=phone_index)
        raise ApiError(409, "user.phone_taken", field="phone", keep=True)
    if owner is None:
        user.phone_index, user.phone_sealed, user.updated_at = phone_index, keys.seal(phone, "phone"), now
    audit.record(session, client, method, "ok", user_id=user.id, identifier_index=phone_index)
    return user
