"""Staff sign-in through the city's OpenID Connect provider: the authorization code flow with
PKCE (S256), state and nonce.

`begin` keeps the request in flight (an `OidcState` row: state, nonce, code verifier, redirect
URI, 10 minutes) and gives the provider's authorization URL; `sign_in` takes the code and state
the front end received on its redirect URI, uses the state once, exchanges the code, verifies the
ID token, maps the provider's claims to our user and starts a session.

Who the person is here: the user linked to the provider's (issuer, subject), and no one else;
on the first sign-in, a new staff user linked to it. A username never links: an account at the
provider whose `preferred_username` is a local user's (an attacker there, or two people whose
names romanise alike) would otherwise become that user. The new user takes the provider's username
only when no one here has it, and gets none otherwise (an admin may sort it out).
The provider is the source of the role (through `role_map`) and units: when they change there,
the next sign-in changes them here as an admin's change would (`users.change`: every service is
told, and the user's earlier sign-ins end, so no token keeps a role the provider took away). A
linked user the provider no longer gives any role is disabled here (de-provisioned: their refresh
tokens stop working and every service refuses their tokens) before the sign-in is refused; only an
admin enables them again.

Every attempt writes one audit row (method "oidc"); a refusal keeps it (`ApiError(keep=True)`),
and the state it used stays used.
"""

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.errors import ApiError
from shared.keys import SigningKeys, blind_index
from shared.uow import Emit

from . import audit, config, directory, tokens, users
from .audit import Client
from .config import OidcProvider
from .models import OidcState, User
from .oidc_client import Providers, Rejected, Unavailable

log = logging.getLogger(__name__)

METHOD = "oidc"
STATE_MINUTES = 10
MAX_UNITS = 20


def provider_named(name: str) -> OidcProvider:
    provider = config.get().oidc.provider(name)
    if provider is None:
        raise ApiError(404, "signin.oidc_unknown_provider", field="provider")
    return provider


def browser_binding(settings: Settings, state: str) -> str:
    """What the browser that began a sign-in holds (a cookie) and must show again to finish it: an
    attacker's own code and state, slipped to a victim's browser, then sign the victim in as nobody
    (login CSRF). Derived from the state with the index key, so nothing more is stored."""
    return blind_index(settings)(state, "oidc-browser")


def begin(session: Session, providers: Providers, name: str, redirect_uri: str,
          now: datetime) -> tuple[str, str]:
    """A new authorization request: its state row, the provider's URL to send the browser to, and the
    state (the caller binds it to the browser)."""
    provider = provider_named(name)
    if redirect_uri not in provider.allowed_redirects:  # exact match, never a prefix
        raise ApiError(422, "signin.bad_redirect", field="redirect_uri")
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    try:
        url = providers.authorization_url(provider, redirect_uri=redirect_uri, state=state, nonce=nonce,
                                          code_verifier=verifier)
    except Unavailable:
        raise ApiError(503, "signin.oidc_unavailable") from None
    session.execute(delete(OidcState).where(OidcState.expires_at < now))  # requests never completed
    session.add(OidcState(state=state, provider=provider.name, nonce=nonce, code_verifier=verifier,
                          redirect_uri=redirect_uri, created_at=now,
                          expires_at=now + timedelta(minutes=STATE_MINUTES)))
    return url, state


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Person:
    """Who the provider says signed in, in our terms."""

    subject: str
    role: str | None  # None: no role of theirs maps to one of ours
    unit_codes: list[str]
    username: str | None
    display_name: str | None


def _claim(claims: dict, name: str):
    """A claim by name, or by a dotted path into nested objects (Keycloak's realm_access.roles)."""
    if name in claims:
        return claims[name]
    value = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value, what: str) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Rejected(f"claims: {what} is neither a string nor a list of strings")
    return values


def person(provider: OidcProvider, claims: dict) -> Person:
    """The role is the first of the provider's role values (in the claim's order) that `role_map`
    lists; the units keep the claim's order (the primary first)."""
    roles = _strings(_claim(claims, provider.role_claim), "role")
    role = next((provider.role_map[r] for r in roles if r in provider.role_map), None)
    units = list(dict.fromkeys(_strings(_claim(claims, provider.unit_claim), "unit")))
    if len(units) > MAX_UNITS or not all(users.valid_unit(u) for u in units):
        raise Rejected("claims: unit codes")
    username = _claim(claims, provider.username_claim)
    username = users.normal_username(username) if isinstance(username, str) else ""
    name = _claim(claims, provider.name_claim)
    name = name.strip()[:users.NAME_MAX].strip() if isinstance(name, str) else ""
    name = name if users.plain_text(name) else ""  # a name with control characters is not used
    # A preferred_username that is no username here is not used (the user gets none).
    return Person(claims["sub"], role, units, username if users.valid_username(username) else None, name or None)


# --------------------------------------------------------------------------- the user


def _linked(session: Session, provider: OidcProvider, subject: str) -> User | None:
    return session.scalar(select(User).where(User.oidc_issuer == provider.issuer, User.oidc_subject == subject)
                          .with_for_update())


def sign_in(session: Session, emit: Emit, settings: Settings, keys: SigningKeys, providers: Providers,
            client: Client, name: str, code: str, state: str, binding: str | None, now: datetime) -> tokens.Issued:
    """The code and state the provider sent back, from the browser that began (its binding) → a
    session of the staff user they prove."""
    provider = config.get().oidc.provider(name)

    def refused(status: int, error: str, reason: str, *, user_id: str | None = None,
                subject: str | None = None) -> ApiError:
        log.log(logging.WARNING if status == 503 else logging.INFO, "OIDC sign-in at %s refused: %s",
                provider.name if provider else "an unknown provider", reason)
        audit.record(session, client, METHOD, error, user_id=user_id, identifier_index=subject)
        return ApiError(status, error, keep=True)

    if provider is None:
        raise refused(404, "signin.oidc_unknown_provider", "no such provider")
    pending = session.get(OidcState, state)
    if pending is None or pending.provider != provider.name or pending.used_at is not None \
            or pending.expires_at <= now:
        raise refused(401, "signin.oidc_failed", "state unknown, used or expired")
    if not binding or not hmac.compare_digest(binding, browser_binding(settings, state)):
        raise refused(401, "signin.oidc_failed", "not the browser that began the sign-in")
    outcome: Exception | None = None
    try:
        id_token = providers.exchange(provider, code=code, redirect_uri=pending.redirect_uri,
                                      code_verifier=pending.code_verifier)
        who = person(provider, providers.verify(provider, id_token, nonce=pending.nonce,
                                                not_before=pending.created_at))
    except (Unavailable, Rejected) as exc:
        outcome = exc
    # The state is used once, whatever came of it; of two requests racing with one state, one wins.
    won = session.execute(update(OidcState).where(OidcState.state == pending.state, OidcState.used_at.is_(None),
                                                  OidcState.expires_at > now).values(used_at=now)).rowcount == 1
    if not won:
        raise refused(401, "signin.oidc_failed", "state used by another request")
    if isinstance(outcome, Unavailable):
        raise refused(503, "signin.oidc_unavailable", str(outcome))
    if outcome is not None:
        raise refused(401, "signin.oidc_failed", str(outcome))

    subject = blind_index(settings)(f"{provider.issuer} {who.subject}", "oidc")
    user = _linked(session, provider, who.subject)
    if who.role is None:
        if user is not None and user.active:
            # De-provisioned at the provider: disabled here too (kept with the refusal), so the
            # sessions they still hold end and no refresh token of theirs works any more.
            users.change(session, emit, user, actor_id=f"oidc:{provider.name}", now=now, active=False)
        raise refused(403, "signin.oidc_no_role", "no role of theirs is in role_map",
                      user_id=user.id if user else None, subject=subject)
    if user is not None and (not user.active or user.kind != "staff"):
        raise refused(401, "signin.oidc_failed", "the user is disabled", user_id=user.id, subject=subject)
    if user is None:
        # A username someone here already has is not taken (nor is that account linked): the new
        # user goes without one.
        username = who.username
        if username is not None and session.scalar(select(User.id).where(User.username == username)):
            username = None
        user = directory.create(session, emit, kind="staff", role=who.role, now=now, unit_codes=who.unit_codes,
                                username=username, display_name=who.display_name,
                                oidc_issuer=provider.issuer, oidc_subject=who.subject)
    else:
        # The provider's role and units are the truth: a change there changes the user here as an
        # admin's would (every service is told, and the user's earlier sign-ins end).
        users.change(session, emit, user, actor_id=f"oidc:{provider.name}", now=now, role=who.role,
                     unit_codes=who.unit_codes, display_name=who.display_name)
    audit.record(session, client, METHOD, "ok", user_id=user.id, identifier_index=subject)
    return tokens.start(session, settings, keys, user, METHOD, now)
