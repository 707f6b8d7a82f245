"""Which unit's polygon contains a point: an STR-tree over every unit with a polygon."""

import json
import time
from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.runtime import ServiceRuntime

from .directory import revision
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


def cached(rt: ServiceRuntime, session: Session, check_every: float = 5.0) -> Locator:
    """The process's grid index, rebuilt when the directory's revision moved (directory.changed, in
    the transaction of every import), so an import reaches running workers and APIs within
    `check_every` seconds without a restart. The revision is one row read at most that often: the
    index had been rebuilt from every polygon once a minute whether anything changed or not."""
    entry = rt.cache.get("locator")
    now = time.monotonic()
    if entry is not None and now - rt.cache.get("locator_checked", 0.0) < check_every:
        return entry
    current = revision(session)
    if entry is None or rt.cache.get("locator_revision") != current:
        entry = Locator.load(session)
        rt.cache["locator"], rt.cache["locator_revision"] = entry, current
    rt.cache["locator_checked"] = now
    return entry
