"""Government systems' API keys: the last time each was used."""

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.runtime import ServiceRuntime

from .models import ApiKey


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
