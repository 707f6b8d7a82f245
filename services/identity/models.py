"""Identity's tables: who may sign in and how, their sessions, government systems' keys, and the
trail of every sign-in attempt.

Personal data here is kept to what signing in needs: a resident's phone is stored sealed (and
found through a keyed hash, never the number itself), a person's display name sealed too
(shared/sealed.py: AES-GCM at rest, a key id per value), a WeChat openid. Secrets are stored only
as hashes: passwords (argon2id), refresh tokens and API keys (SHA-256 of 256-bit random values),
one-time codes (HMAC).
"""

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import BigIntId, UTCDateTime, service_metadata
from shared.messaging.tables import messaging_tables
from shared.sealed import Sealed
from shared.tracing import event_log_table


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
# Identity verifies its own tokens like every service, and writes these rows itself, in the same
# transaction as the revocation or the key, so they hold at once here.
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)


class User(Base):
    """A person who may sign in: a resident (by SMS code or WeChat) or staff (password or the city's
    identity provider). Disabled users cannot sign in, and their tokens are revoked everywhere."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # resident | staff
    role: Mapped[str] = mapped_column(String(30))
    unit_codes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, the primary unit first
    username: Mapped[str | None] = mapped_column(String(64), unique=True)  # staff
    # Sealed at rest; never searched or sorted on (a name is shown, not looked up).
    display_name: Mapped[str | None] = mapped_column(Sealed("identity.users.display_name"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A resident's phone: the keyed hash finds it, the sealed copy is only ever opened to send a code.
    phone_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wechat_unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInSession(Base):
    """One sign-in (a refresh-token family): every access token carries its id (`sid`)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(20))  # password | sms | wechat | oidc | demo
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # no refresh after this, whatever happens
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))


class RefreshToken(Base):
    """One refresh token of a session. Used once: refreshing gives the next one; a used token
    presented again means it was stolen, and the whole session is revoked."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodeChallenge(Base):
    """A one-time SMS code sent to a phone: 6 digits, 5 minutes, 5 attempts (configurable)."""

    __tablename__ = "code_challenges"
    __table_args__ = (Index("ix_code_challenges_phone_created", "phone_index", "created_at"),
                      Index("ix_code_challenges_ip_created", "ip_index", "created_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # sign_in | link_phone
    phone_index: Mapped[str] = mapped_column(String(64))
    phone_sealed: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64))
    ip_index: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Embedded mode without an SMS provider only: the code, sealed, for the development inbox.
    dev_code_sealed: Mapped[str | None] = mapped_column(Text)


class ApiKey(Base):
    """A government system's key: shown once when made, stored as a hash, scoped, expiring, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # public: the key's first part
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)  # JSON list
    area_code: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInAttempt(Base):
    """Every sign-in attempt, successful or not: who (when known), how, from where, the result.
    Never the secret: the identifier tried (a username or phone) is kept only as a keyed hash."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    method: Mapped[str] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(String(40))  # ok, or the error code given
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    identifier_index: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))


class OidcState(Base):
    """An authorisation request in flight to the city's identity provider (state, nonce, PKCE)."""

    __tablename__ = "oidc_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
