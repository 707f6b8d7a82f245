"""The areas selfgov works in, as routing's directory has them (codes, names, paths, outlines): which community
holds a case's point, which grids a community has, and the path a user's units stand for.

Routing owns the directory and publishes no event of its changes yet, so the copy is loaded from the same
source routing's is (the organisation's GeoJSON, deploy/demo/org.geojson in the demo) by `load`."""

import json
from pathlib import Path

from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User

from .models import Area

LEVELS = ("district", "street", "community", "grid")


def load(session: Session, geojson: Path) -> int:
    """The areas of an organisation file (district, street, community, grid), upserted; departments skipped."""
    features = json.loads(geojson.read_text(encoding="utf-8"))["features"]
    props = {f["properties"]["code"]: f for f in features if f["properties"].get("level") in LEVELS}

    def path(code: str) -> str:
        parent = props[code]["properties"].get("parent_code")
        return (path(parent) if parent in props else "/") + f"{code}/"

    for code, f in props.items():
        p = f["properties"]
        row = session.get(Area, code) or Area(code=code)
        row.name, row.level, row.parent_code, row.path = p["name"], p["level"], p.get("parent_code"), path(code)
        row.area_geojson = json.dumps(f["geometry"]) if f.get("geometry") else None
        session.add(row)
    return len(props)


def area(session: Session, code: str | None) -> Area | None:
    return session.get(Area, code) if code else None


def community(session: Session, code: str | None) -> Area | None:
    area = session.get(Area, code) if code else None
    return area if area is not None and area.level == "community" else None


def community_at(session: Session, lat: float | None, lon: float | None) -> Area | None:
    """The community whose outline holds the point (WGS-84), if any."""
    if lat is None or lon is None:
        return None
    point = Point(lon, lat)
    for area in session.scalars(select(Area).where(Area.level == "community").order_by(Area.code)):
        if area.area_geojson and shape(json.loads(area.area_geojson)).covers(point):
            return area
    return None


def grids_of(session: Session, community_code: str) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.parent_code == community_code, Area.level == "grid")
                                .order_by(Area.code)))


def communities(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.level == "community").order_by(Area.code)))


def streets(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.level == "street").order_by(Area.code)))


def user_paths(session: Session, user: User) -> tuple[str, ...]:
    """The paths of the units a staff token names (the primary first); unknown codes stand for nothing."""
    codes = list(dict.fromkeys([*user.unit_codes, *([user.unit_code] if user.unit_code else [])]))
    if not codes:
        return ()
    found = {a.code: a.path for a in session.scalars(select(Area).where(Area.code.in_(codes)))}
    return tuple(found[c] for c in codes if c in found)
