"""The service's copy of the grids: which grid a point is in, and the grids a user's units reach.

Routing owns the unit directory and publishes no event when a unit changes, so the grid service loads the
same organisation file routing's importer reads (deploy/demo/org.geojson in the demo; `load` takes any such
FeatureCollection) and keeps each grid's path of codes from the root: a user's units reach the grids whose
path holds one of them.
"""

import json
from functools import lru_cache

from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.ids import unit_id

from .models import Grid


def load(session: Session, features: list[dict]) -> int:
    """Adds or updates the grids of an organisation FeatureCollection's features (level "grid")."""
    by_code = {f["properties"]["code"]: f for f in features}

    def path(code: str) -> str:
        codes, seen = [], set()
        while code and code in by_code and code not in seen:
            seen.add(code)
            codes.append(code)
            code = by_code[code]["properties"].get("parent_code")
        return "/" + "/".join(reversed(codes)) + "/"

    n = 0
    for code, f in by_code.items():
        props = f["properties"]
        if props.get("level") != "grid":
            continue
        grid = session.get(Grid, code) or Grid(code=code)
        grid.unit_id, grid.name, grid.community_code = unit_id(code), props["name"], props.get("parent_code")
        grid.path = path(code)
        grid.area_geojson = json.dumps(f["geometry"]) if f.get("geometry") else None
        session.add(grid)
        n += 1
    _shapes.cache_clear()
    return n


def grids(session: Session) -> list[Grid]:
    return list(session.scalars(select(Grid).order_by(Grid.code)))


@lru_cache(maxsize=1)
def _shapes_of(rows: tuple[tuple[str, str], ...]):
    return [(code, shape(json.loads(area))) for code, area in rows]


def _shapes(session: Session):
    rows = tuple(tuple(r) for r in session.execute(
        select(Grid.code, Grid.area_geojson).where(Grid.area_geojson.is_not(None)).order_by(Grid.code)))
    return _shapes_of(rows)


_shapes.cache_clear = _shapes_of.cache_clear  # type: ignore[attr-defined]


def grid_at(session: Session, lat: float | None, lon: float | None) -> str | None:
    """The code of the grid holding a WGS-84 point, if any."""
    if lat is None or lon is None:
        return None
    point = Point(lon, lat)
    return next((code for code, area in _shapes(session) if area.covers(point)), None)


def reachable(session: Session, unit_codes: tuple[str, ...]) -> set[str]:
    """The grids in the subtrees of these units (a grid's own code reaches that grid)."""
    if not unit_codes:
        return set()
    return {g.code for g in grids(session) if any(f"/{code}/" in g.path for code in unit_codes)}
