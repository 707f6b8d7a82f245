"""Sessions and tokens: a sign-in opens a session and gives a short access token (15 minutes by
default) and a refresh token; refreshing rotates the refresh token; a refresh token used twice
(stolen, or replayed) revokes the whole session; signing out revokes it too.

Revoking writes the revocation row here (identity's own copy, read by its verifier) and emits
`identity.session.revoked`, which every other service keeps the same way.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.auth import access_claims, sign
from shared.auth_state import record_revocation
from shared.config import Settings
from shared.errors import ApiError
from shared.events.identity import SessionRevoked
from shared.keys import SigningKeys
from shared.uow import Emit

from . import config
from .directory import units_of
from .models import RefreshToken, SignInSession, User, auth


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    user: User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session: Session, sess: SignInSession, settings: Settings, now: datetime) -> tuple[str, datetime]:
    token = "rt_" + secrets.token_urlsafe(32)
    expires = min(sess.expires_at, now + timedelta(days=settings.refresh_token_days))
    session.add(RefreshToken(session_id=sess.id, token_hash=_hash(token), issued_at=now, expires_at=expires))
    return token, expires


def _access(settings: Settings, keys: SigningKeys, user: User, sess: SignInSession, now: datetime) -> str:
    claims = access_claims(settings, user_id=user.id, role=user.role, unit_codes=units_of(user), session_id=sess.id,
                           now=now, phone_index=user.phone_index)
    return sign(claims, keys.active)


def start(session: Session, settings: Settings, keys: SigningKeys, user: User, method: str,
          now: datetime) -> Issued:
    """A new sign-in of an active user: a session, its first refresh token, an access token."""
    if not user.active:
        raise ApiError(401, "signin.failed")
    sess = SignInSession(id=str(uuid.uuid4()), user_id=user.id, method=method, created_at=now, last_used_at=now,
                         expires_at=now + timedelta(days=config.get().session_days))
    session.add(sess)
    user.last_sign_in_at = now
    refresh, refresh_expires = _new_refresh(session, sess, settings, now)
    return Issued(_access(settings, keys, user, sess, now), settings.access_token_seconds, refresh,
                  int((refresh_expires - now).total_seconds()), sess.id, user)


def revoke(session: Session, emit: Emit, sess: SignInSession, reason: str, now: datetime) -> None:
    if sess.revoked_at is not None:
        return
    sess.revoked_at, sess.revoked_reason = now, reason
    record_revocation(session, auth, "session", sess.id, now)
    emit(SessionRevoked(session_id=sess.id, user_id=sess.user_id, reason=reason, at=now))


def refresh(session: Session, emit: Emit, settings: Settings, keys: SigningKeys, token: str,
            now: datetime) -> Issued:
    """The next pair for a valid refresh token. A used one again revokes the session (the refusal
    and the revocation are kept: ApiError(keep=True))."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)).with_for_update())
    if row is None:
        raise ApiError(401, "token.refresh_invalid")
    sess = session.get(SignInSession, row.session_id, with_for_update=True)
    user = session.get(User, sess.user_id) if sess else None
    if row.used_at is not None:
        if sess is not None:
            revoke(session, emit, sess, "refresh_reuse", now)
        raise ApiError(401, "token.refresh_invalid", keep=True)
    if sess is None or sess.revoked_at is not None or user is None or not user.active or row.expires_at <= now \
            or sess.expires_at <= now:
        raise ApiError(401, "token.refresh_invalid")
    # Conditional on still being unused: of two requests racing with one token, one wins.
    won = session.execute(update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                          .values(used_at=now)).rowcount
    if won != 1:
        revoke(session, emit, sess, "refresh_reuse", now)
        raise ApiError(401, "token.refresh_invalid", keep=True)
    sess.last_used_at = now
    new_refresh, refresh_expires = _new_refresh(session, sess, settings, now)
    return Issued(_access(settings, keys, user, sess, now), settings.access_token_seconds, new_refresh,
                  int((refresh_expires - now).total_seconds()), sess.id, user)


def sign_out(session: Session, emit: Emit, session_id: str | None, user_id: str, now: datetime) -> None:
    sess = session.get(SignInSession, session_id, with_for_update=True) if session_id else None
    if sess is not None and sess.user_id == user_id:
        revoke(session, emit, sess, "signed_out", now)


def revoke_all(session: Session, emit: Emit, user_id: str, reason: str, now: datetime) -> None:
    for sess in session.scalars(select(SignInSession).where(SignInSession.user_id == user_id,
                                                            SignInSession.revoked_at.is_(None))):
        revoke(session, emit, sess, reason, now)
