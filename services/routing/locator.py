"""Which unit's polygon contains a point: an STR-tree over every unit with a polygon."""

import json
import time
from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.runtime import ServiceRuntime

from .models import Unit


@dataclass(frozen=True)
class Located:
    unit_id: str
    code: str
    name: str
    level: str
    depth: int


class Locator:
    def __init__(self, units: list[Unit]):
        with_area = [u for u in units if u.geometry]
        self.units = [Located(u.id, u.code, u.name, u.level, u.depth) for u in with_area]
        self.tree = shapely.STRtree([shape(json.loads(u.geometry)) for u in with_area])

    @classmethod
    def load(cls, session: Session) -> "Locator":
        return cls(list(session.scalars(select(Unit).where(Unit.geometry.is_not(None)))))

    def locate(self, lon: float, lat: float) -> list[Located]:
        """Every unit containing the point, finest first (a point on a border touches both sides:
        the lower code wins, so the answer is stable)."""
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return sorted((self.units[i] for i in hits), key=lambda u: (-u.depth, u.code))


def cached(rt: ServiceRuntime, session: Session, max_age: float = 60.0) -> Locator:
    """The process's grid index, rebuilt when older than `max_age` seconds, so a directory
    import reaches running workers and APIs without a restart."""
    entry = rt.cache.get("locator")
    stamp = rt.cache.get("locator_at", 0.0)
    if entry is None or time.monotonic() - stamp > max_age:
        entry = Locator.load(session)
        rt.cache["locator"], rt.cache["locator_at"] = entry, time.monotonic()
    return entry
