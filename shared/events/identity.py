"""Events of the identity service: who may act, and what stopped being valid.

Every other service keeps what it needs of these (shared/auth_state.py): the sessions and users
whose tokens are revoked, and the government systems' API keys (by hash: the key itself is shown
once to the admin who made it and never travels). A user's name and phone never travel; a phone
and a one-time code that notify must send by SMS travel sealed (shared.keys.DataKeys), readable
by notify alone.
"""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

UserKind = Literal["resident", "staff"]


@event("identity.user.changed", 1, subject=("user", "user_id"))
class UserChanged(Payload):
    """A user was created, changed (role, units) or disabled / enabled. Disabling revokes every
    token issued to the user before `at`."""

    user_id: str
    kind: UserKind
    role: str
    unit_codes: list[str] = []
    active: bool
    at: datetime


@event("identity.session.revoked", 1, subject=("session", "session_id"))
class SessionRevoked(Payload):
    """Signed out, or a refresh token was used twice (the whole sign-in is revoked): access tokens
    of the session issued before `at` are refused everywhere."""

    session_id: str
    user_id: str
    reason: Literal["signed_out", "refresh_reuse", "user_disabled", "password_changed", "admin"]
    at: datetime


@event("identity.api_key.changed", 1, subject=("api_key", "key_id"))
class ApiKeyChanged(Payload):
    """A government system's key was issued or revoked."""

    key_id: str
    key_hash: str  # SHA-256 of the whole key as presented (shared.auth_state.key_hash), hex
    name: str
    scopes: list[str]
    area_code: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    at: datetime


@event("identity.code.requested", 1, subject=("challenge", "challenge_id"))
class CodeRequested(Payload):
    """A one-time sign-in code for notify to send by SMS. `phone` and `code` are sealed for notify."""

    challenge_id: str
    purpose: Literal["sign_in", "link_phone", "verify_contact"]
    phone_sealed: str
    code_sealed: str
    expires_at: datetime
    at: datetime


def phone_seal_context(challenge_id: str) -> str:
    """The AES-GCM context of a CodeRequested's phone: it opens for that challenge only."""
    return f"sms-phone:{challenge_id}"


def code_seal_context(challenge_id: str) -> str:
    return f"sms-code:{challenge_id}"


class ApiKeyUsed(Payload):
    """A service accepted a government system's key: identity keeps the key's last-used time.
    Reported at most once a minute per key and process."""

    key_id: str
    at: datetime


# One type per reporting service, so each event says who saw the key (intake.api_key.used, ...).
API_KEY_USED = {
    source: event(f"{source}.api_key.used", 1, subject=("api_key", "key_id"))(
        type(f"{source.capitalize()}ApiKeyUsed", (ApiKeyUsed,), {"__module__": __name__}))
    for source in ("intake", "routing", "mediation", "notify", "grid", "selfgov")
}
