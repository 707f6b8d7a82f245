"""Who is asking: bearer tokens of people, API keys of government systems.

Access tokens are JWTs signed ES256 by the identity service (shared/keys.py); every service
verifies them against the identity service's public keys, checks issuer, audience, expiry,
not-before and a lifetime no longer than the configured maximum, and refuses a token whose
session or user was revoked after it was issued (shared/auth_state.py). Nothing here can sign a
token in services mode: `issue_token` is the development helper of embedded mode and the tests
(`make token` signs a demo user in at the identity service instead: services/identity/__main__.py).
"""

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from .config import Settings
from .errors import ApiError
from .keys import ALGORITHM, KeysUnavailable, SigningKey, UnknownKey, blind_index, signing_keys
from .phones import normalise

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 30  # clocks of identity and this service may differ by this much (exp, nbf, iat)

ROLES = (
    "resident",
    "operator",
    "grid_worker",
    "community_staff",
    "street_dispatcher",
    "department_handler",
    "mediator",
    "supervisor",
    "admin",
)
STAFF_ROLES = frozenset(ROLES) - {"resident"}


@dataclass(frozen=True)
class User:
    id: str
    role: str
    unit_code: str | None = None
    # Staff of several units (a roster may give more than one): the primary unit first.
    unit_codes: tuple[str, ...] = ()
    session_id: str | None = None
    # A resident's phone as verified by an SMS code at identity, as a keyed hash (shared.keys.
    # blind_index(phone, "phone")): a service holding the index key tells "this is her phone"
    # without ever being told the number.
    phone_index: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class ApiClient:
    """A government system, signed in with its API key (scoped to operations and an area)."""

    key_id: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    area_code: str | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


# --------------------------------------------------------------------------- issuing (identity)


def access_claims(settings: Settings, *, user_id: str, role: str, unit_codes: tuple[str, ...] | list[str] = (),
                  session_id: str, now: datetime | None = None, phone_index: str | None = None) -> dict:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    claims = {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": user_id, "role": role,
        "unit": unit_codes[0] if unit_codes else None, "units": list(unit_codes), "sid": session_id,
        "iat": now, "nbf": now, "exp": now + timedelta(seconds=settings.access_token_seconds),
        "jti": str(uuid.uuid4()),
    }
    if phone_index:
        claims["pix"] = phone_index
    return claims


def sign(claims: dict, key: SigningKey) -> str:
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "at+jwt"})


def issue_token(settings: Settings, user_id: str, role: str, unit_code: str | None = None,
                session_id: str | None = None, phone: str | None = None) -> str:
    """A token signed with the development key: embedded mode and tests only."""
    if settings.mode != "embedded":
        raise RuntimeError("issue_token signs with the development key; in services mode tokens come from "
                           "the identity service")
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    claims = access_claims(settings, user_id=user_id, role=role, unit_codes=(unit_code,) if unit_code else (),
                           session_id=session_id or f"dev-{uuid.uuid4()}",
                           phone_index=blind_index(settings)(normalise(phone, mobile=True), "phone") if phone else None)
    return sign(claims, signing_keys(settings).active)


# --------------------------------------------------------------------------- verifying (every service)


class Verifier:
    """Checks one service's incoming credentials; `app.state.verifier` of every service."""

    # Tokens verified lately, by their text: a client sends the same token for its 15 minutes, and checking
    # its ES256 signature and claims again on every request was most of what authentication cost (issue 15).
    # What can change after the first check is checked on every request all the same: the key still
    # published (the very key object the check used: a re-read JWKS makes new ones, so a token is verified
    # afresh at least every max_age), the token not expired, its session or user not revoked.
    CACHED_TOKENS = 4096

    def __init__(self, settings: Settings, jwks, state):
        self.settings, self.jwks, self.state = settings, jwks, state
        self._verified: dict[str, tuple[User, str, object, float, datetime]] = {}
        self._remembering = threading.Lock()  # the thread pool's requests add and evict at once

    def known_user(self, token: str) -> User | None:
        """The user of a token verified lately, where telling needs no I/O now (the key and the revocations
        read within their refresh periods); None where `user` must be asked in a thread. The event loop
        asks this first: most requests then need no thread for who they are (issue 15)."""
        known = self._verified.get(token)
        if known is None:
            return None
        user, kid, key, exp, issued = known
        if self.jwks.known(kid) is not key or time.time() >= exp + LEEWAY_SECONDS:
            return None
        if self.state is not None:
            revoked = self.state.revoked_known(user.id, user.session_id, issued)
            if revoked is None:
                return None
            if revoked:
                raise ApiError(401, "auth.invalid_token")
        return user

    def user(self, token: str) -> User:
        known = self._verified.get(token)
        if known is not None:
            user, kid, key, exp, issued = known
            try:
                current = self.jwks.key(kid)
            except (UnknownKey, KeysUnavailable):
                current = None
            if current is key and time.time() < exp + LEEWAY_SECONDS:
                if self.state is not None and self.state.revoked(user.id, user.session_id, issued):
                    raise ApiError(401, "auth.invalid_token")
                return user
            self._verified.pop(token, None)
        user, kid, key, exp, issued = self._verify(token)
        with self._remembering:
            if len(self._verified) >= self.CACHED_TOKENS:
                self._verified.pop(next(iter(self._verified)), None)  # the oldest goes first
            self._verified[token] = (user, kid, key, exp, issued)
        return user

    def _verify(self, token: str) -> tuple[User, str, object, float, datetime]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise ApiError(401, "auth.invalid_token") from None
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise ApiError(401, "auth.invalid_token")
        try:
            key = self.jwks.key(header["kid"])
        except UnknownKey:
            raise ApiError(401, "auth.invalid_token") from None
        except KeysUnavailable:
            raise ApiError(503, "auth.unavailable") from None
        s = self.settings
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=s.jwt_audience, issuer=s.jwt_issuer,
                                leeway=LEEWAY_SECONDS,
                                options={"require": ["iss", "aud", "sub", "iat", "nbf", "exp", "sid"]})
        except jwt.PyJWTError:
            raise ApiError(401, "auth.invalid_token") from None
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or exp - iat > s.max_token_lifetime_seconds:
            raise ApiError(401, "auth.invalid_token")
        role, units = claims.get("role"), claims.get("units") or []
        if role not in ROLES or not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            raise ApiError(401, "auth.invalid_token")
        issued = datetime.fromtimestamp(iat, UTC)
        if self.state is not None and self.state.revoked(claims["sub"], claims["sid"], issued):
            raise ApiError(401, "auth.invalid_token")
        pix = claims.get("pix")
        user = User(id=claims["sub"], role=role, unit_code=claims.get("unit"), unit_codes=tuple(units),
                    session_id=claims["sid"], phone_index=pix if isinstance(pix, str) else None)
        return user, header["kid"], key, float(exp), issued

    def api_client(self, secret: str) -> ApiClient:
        record = self.state.api_key(secret) if self.state is not None else None
        now = datetime.now(UTC)
        if record is None or record.revoked_at is not None or (record.expires_at and record.expires_at <= now):
            raise ApiError(401, "auth.invalid_api_key")
        return ApiClient(record.key_id, record.name, record.scopes, record.area_code)


_bearer = HTTPBearer(auto_error=False, description="身份服务签发的访问令牌 an access token from /identity/v1/tokens/*")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="政府系统的 API 密钥 a government system's API key (issued by an admin)")


async def current_user(request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    if credentials is None:
        raise ApiError(401, "auth.missing_token")
    verifier: Verifier = request.app.state.verifier
    user = verifier.known_user(credentials.credentials)
    if user is None:  # a first sight of the token, or a key or revocation list to read again: may block
        user = await run_in_threadpool(verifier.user, credentials.credentials)
    request.state.principal = user  # the audit trail's actor
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def require_staff(user: CurrentUser) -> User:
    if not user.is_staff:
        raise ApiError(403, "auth.forbidden")
    return user


StaffUser = Annotated[User, Depends(require_staff)]


def current_api_client(request: Request, key: Annotated[str | None, Depends(_api_key)]) -> ApiClient:
    if not key:
        raise ApiError(401, "auth.missing_api_key")
    client = request.app.state.verifier.api_client(key)
    request.state.principal = client
    report = getattr(request.app.state, "report_api_key_use", None)
    if report is not None:
        report(client.key_id)
    return client


CurrentApiClient = Annotated[ApiClient, Depends(current_api_client)]


# --------------------------------------------------------------------------- the demo


def demo_users(settings: Settings) -> list[dict]:
    return json.loads((settings.demo_dir / "users.json").read_text(encoding="utf-8"))


def demo_token(settings: Settings, role: str | None = None, username: str | None = None) -> str:
    """The development token of the first demo user with this role (or this username)."""
    for user in demo_users(settings):
        if (username is not None and user.get("username") == username) or (username is None and user["role"] == role):
            return issue_token(settings, user["id"], user["role"], user.get("unit_code"))
    wanted = f"username {username!r}" if username else f"role {role!r}"
    raise SystemExit(f"no demo user has the {wanted}; roles: {', '.join(ROLES)}")
