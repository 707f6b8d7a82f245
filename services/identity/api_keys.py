"""Government systems' API keys: issued by an admin, shown once, stored hashed, scoped to
operations (data/identity.json "api_keys".scopes) and optionally an area, expiring, revocable; and
the last time each was used.

A key reads `cgk_<key id>_<secret>`, the secret 256 random bits. What is kept is the SHA-256 of the
whole key as presented in X-API-Key (shared.auth_state.key_hash, what every service's AuthState
looks a presented key up by). Each issue or revocation writes identity's own replicated row
(record_api_key, read by its verifier at once) and emits `identity.api_key.changed`, from which
every other service keeps the same row.
"""

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.auth_state import key_hash, record_api_key
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.identity import ApiKeyChanged
from shared.runtime import ServiceRuntime
from shared.uow import Emit

from . import config
from .models import ApiKey, auth
from .users import clean_name, known_unit, valid_unit

PREFIX = "cgk"


@dataclass(frozen=True)
class Issued:
    key: ApiKey
    secret: str  # the whole key, shown once


def _announce(session: Session, emit: Emit, key: ApiKey, now: datetime) -> None:
    change = ApiKeyChanged(key_id=key.id, key_hash=key.key_hash, name=key.name, scopes=json.loads(key.scopes),
                           area_code=key.area_code, expires_at=key.expires_at, revoked_at=key.revoked_at, at=now)
    record_api_key(session, auth, change)
    emit(change)


def issue(session: Session, emit: Emit, *, name: str, scopes: list[str], area_code: str | None,
          expires_in_days: int | None, created_by: str, now: datetime) -> Issued:
    policy = config.get().api_keys
    name = clean_name(name, "name", "api_key.bad_name")
    unknown = sorted(set(scopes) - set(policy.scopes))
    if unknown or not scopes:
        raise ApiError(422, "api_key.bad_scope", field="scopes", detail=", ".join(unknown) or None)
    days = policy.max_days if expires_in_days is None else expires_in_days
    if not 1 <= days <= policy.max_days:
        raise ApiError(422, "api_key.bad_expiry", field="expires_in_days", detail=f"1-{policy.max_days}")
    area = area_code.strip() if area_code else None
    if area is not None and not valid_unit(area):
        raise ApiError(422, "user.bad_unit", field="area_code")
    if area is not None and not known_unit(area):
        raise ApiError(422, "user.unknown_unit", field="area_code", detail=area)
    key_id = secrets.token_hex(8)
    secret = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(id=key_id, name=name, key_hash=key_hash(secret), scopes=json.dumps(sorted(set(scopes))),
                 area_code=area, created_by=created_by, created_at=now, expires_at=now + timedelta(days=days))
    session.add(key)
    session.flush()
    _announce(session, emit, key, now)
    return Issued(key, secret)


def revoke(session: Session, emit: Emit, key_id: str, by: str, now: datetime) -> None:
    """Refused everywhere once the event arrives (here at once). Revoking twice changes nothing."""
    key = session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise ApiError(404, "api_key.not_found", field="key_id")
    if key.revoked_at is not None:
        return
    key.revoked_at, key.revoked_by = now, by
    _announce(session, emit, key, now)


def listed(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))


def record_use(session: Session, key_id: str, at: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id, (ApiKey.last_used_at.is_(None)) |
                                         (ApiKey.last_used_at < at)).values(last_used_at=at))


def use_recorder(rt: ServiceRuntime, every_seconds: float = 60.0) -> Callable[[str], None]:
    """Identity's own API accepting a key records its use directly (at most once a minute per key)."""
    last: dict[str, float] = {}

    def recorded(key_id: str) -> None:
        now = time.monotonic()
        if now - last.get(key_id, float("-inf")) < every_seconds:
            return
        last[key_id] = now
        with rt.uow() as session:
            record_use(session, key_id, utcnow())

    return recorded
