"""Staff sign-in by username and password.

No answer tells whether an account exists: an unknown username, a wrong password, a disabled
account, a resident's or a password-less account all answer 401 `signin.failed` after the same
argon2 work (passwords.verify checks a dummy hash when there is none), and all are counted towards
the same lockout (lockout.py): per account and client address, after which every attempt from
that address answers 429 `signin.locked` with Retry-After, whether the password is right or not
(the owner elsewhere is not held back), and a ceiling per account that slows a flood from many
addresses (429 `signin.slowed`). Every attempt is audited with the keyed hash of
the name tried, never the password; a refusal keeps its audit row and its count (keep=True).
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.errors import ApiError
from shared.keys import BlindIndex, SigningKeys

from . import audit, lockout, tokens
from .models import User
from .passwords import hash_password, hasher, verify
from .users import normal_username, valid_username

METHOD = "password"


def sign_in(session: Session, settings: Settings, keys: SigningKeys, index: BlindIndex, client: audit.Client,
            username: str, password: str, now: datetime) -> tokens.Issued:
    name = normal_username(username)
    identifier = index(name, "username")
    # A name no user can have (a NUL byte, which PostgreSQL refuses in a query) is looked for nowhere:
    # it fails, and is counted, like any unknown name.
    user = session.scalar(select(User).where(User.username == name, User.kind == "staff").with_for_update()) \
        if valid_username(name) else None
    user_id = user.id if user is not None else None
    refused = lockout.refusal(session, user, identifier, client.ip, now)
    if refused is not None:
        audit.record(session, client, METHOD, refused.code, user_id=user_id, identifier_index=identifier)
        raise refused
    right = verify(user.password_hash if user is not None else None, password)
    if not right or not user.active:
        lockout.count_failure(session, user, client.ip, now)
        audit.record(session, client, METHOD, lockout.FAILED, user_id=user_id, identifier_index=identifier)
        raise ApiError(401, lockout.FAILED, keep=True)
    lockout.succeeded(user)
    if hasher().check_needs_rehash(user.password_hash):  # the hashing parameters were raised since
        user.password_hash = hash_password(password)
    audit.record(session, client, METHOD, "ok", user_id=user.id, identifier_index=identifier)
    return tokens.start(session, settings, keys, user, METHOD, now)
