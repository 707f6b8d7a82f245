"""A point as a client sends it, in one place for every service that takes one (intake's cases and
duplicate lookups, mediation's applications): checked, converted from GCJ-02 / BD-09 to WGS-84, and
refused outside the deployment's service area.

Why one home: residents' maps in China give GCJ-02 (WeChat `wx.chooseLocation`, `<map>`,
`wx.getLocation({type: 'gcj02'})`, Amap, Tencent Maps), Baidu gives BD-09 and a GPS WGS-84; the same
numbers taken in the wrong system land about 360 m off in Chengdu, often in another grid or community.
So a point always comes with its coordinate system, never guessed, and every service must apply the
same rule and the same transform, or one case and its dispute would sit in different places.

GCJ-02 is the obfuscated datum every map in China uses; BD-09 is Baidu's offset on top of it. The
forward transform is the published one; the inverse has no closed form, so it is solved by fixed-point
iteration (error < 1e-7° after a few steps). No maintained Python package covers this, and the formula
is short.
"""

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import ApiError

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

A = 6378245.0  # Krasovsky 1940, the ellipsoid GCJ-02 is defined on
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0
EARTH_RADIUS_M = 6371008.8


def _out_of_china(lat: float, lon: float) -> bool:
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if _out_of_china(lat, lon):
        return lat, lon
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    if _out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(10):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = glat - lat, glon - lon
        wlat, wlon = wlat - dlat, wlon - dlon
        if abs(dlat) < 1e-9 and abs(dlon) < 1e-9:
            break
    return wlat, wlon


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_wgs84(lat: float, lon: float, system: str) -> tuple[float, float]:
    if system == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if system == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))
    return lat, lon


def in_polygons(lat: float, lon: float, polygons) -> bool:
    """Whether the point is inside any of the rings ([lon, lat] pairs): even-odd ray casting, which
    is exact enough at a district's scale (its edges are a few kilometres long)."""
    for ring in polygons:
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        if inside:
            return True
    return False


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class ServiceArea(BaseModel):
    """Where this deployment takes points (each service's configuration holds one: intake's policy.json,
    mediation's procedure.json). A point outside it is refused (422 `<prefix>.outside_service_area`)
    rather than sent to a fallback unit or committee: it is nearly always a point in the wrong coordinate
    system or a wrong pick on the map, and the one who sent it can still correct it."""

    # A misspelt key in a deployment's file is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)
    comment: str | None = Field(None, alias="_comment", description="说明 a note for whoever edits the file")
    name: str = Field(min_length=1, max_length=40, description="服务范围名称（出现在错误说明中）the area's name")
    polygons: tuple[tuple[tuple[float, float], ...], ...] = Field(
        min_length=1, description="服务范围多边形（WGS-84，每点 [经度, 纬度]，与 GeoJSON 同序；多个多边形取并集）"
                                  "outer rings, WGS-84 [lon, lat] as in GeoJSON; a point in any of them is inside")

    @field_validator("polygons")
    @classmethod
    def _rings(cls, polygons):
        for i, ring in enumerate(polygons):
            if len(set(ring)) < 3:
                raise ValueError(f"polygon {i} needs at least 3 distinct points")
            for lon, lat in ring:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError(f"polygon {i}: [{lon}, {lat}] is not a [lon, lat] pair")
        return polygons


def point(lat: float | None, lon: float | None, coord_system: str | None, area: ServiceArea, *,
          prefix: str) -> tuple[float, float] | None:
    """A point as a client sent it, in WGS-84; None when it sent none. Both numbers or neither; the
    coordinate system said, never guessed; inside the service area. Refusals are 422 with the service's
    own codes (`prefix`: intake's `case`, mediation's `dispute`; each service registers the messages of
    `<prefix>.location_pair`, `<prefix>.coord_system_required` and `<prefix>.outside_service_area`), so a
    client keeps the codes it knows."""
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ApiError(422, f"{prefix}.location_pair", field="lon" if lon is None else "lat")
    if coord_system is None:
        raise ApiError(422, f"{prefix}.coord_system_required", field="coord_system")
    if coord_system not in COORD_SYSTEMS:  # the schemas refuse it first; a caller in code must not guess either
        raise ApiError(422, "validation.not_allowed", field="coord_system")
    wgs = to_wgs84(lat, lon, coord_system)
    if not in_polygons(*wgs, area.polygons):
        raise ApiError(422, f"{prefix}.outside_service_area", field="lat", detail=area.name)
    return wgs
