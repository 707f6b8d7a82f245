"""Coordinates at intake: a point as a client sends it (`point`: checked and converted by the one
implementation every service shares, shared/geo.py, with intake's codes and service area), grid cells
for the duplicate index, distances.
"""

import math

from shared import geo as shared_geo
from shared.geo import (  # noqa: F401  (intake's callers and tests use them from here)
    X_PI,
    bd09_to_gcj02,
    distance_m,
    gcj02_to_wgs84,
    in_polygons,
    to_wgs84,
    wgs84_to_gcj02,
)

from . import config


def point(lat: float | None, lon: float | None, coord_system: str | None) -> tuple[float, float] | None:
    """A point as a client sent it, in WGS-84; None when it sent none. The one place intake applies a
    point's rules, for a submission and the duplicate lookup alike (shared.geo.point): both numbers or
    neither (case.location_pair); the coordinate system said, never guessed (case.coord_system_required:
    a GCJ-02 point taken as WGS-84 lands about 360 m off, often in another grid); inside policy.json's
    service area (case.outside_service_area), else refused rather than dispatched to a fallback unit."""
    return shared_geo.point(lat, lon, coord_system, config.get().service_area, prefix="case")


def cell_of(lat: float, lon: float, size: float) -> int:
    """A square cell of `size` degrees as one integer (row * 1e6 + column)."""
    return int((lat + 90.0) // size) * 1_000_000 + int((lon + 180.0) // size)


def cells_around(lat: float, lon: float, radius_m: float, size: float) -> list[int]:
    """Every cell that may hold a point within radius_m of (lat, lon)."""
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    r0, r1 = int((lat - dlat + 90.0) // size), int((lat + dlat + 90.0) // size)
    c0, c1 = int((lon - dlon + 180.0) // size), int((lon + dlon + 180.0) // size)
    return [r * 1_000_000 + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
