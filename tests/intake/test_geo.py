"""Coordinate conversion and the duplicate grid cells."""

import math

from services.intake import geo


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Baidu's published forward offset: intake only ever converts the other way."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * geo.X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * geo.X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def test_gcj02_and_bd09_round_trip_to_wgs84_within_a_metre():
    wgs = (30.6283, 104.052115)
    gcj = geo.wgs84_to_gcj02(*wgs)
    assert 100 < geo.distance_m(*wgs, *gcj) < 1000  # the GCJ offset is hundreds of metres
    back = geo.gcj02_to_wgs84(*gcj)
    assert geo.distance_m(*wgs, *back) < 1.0
    bd = gcj02_to_bd09(*gcj)
    assert geo.distance_m(*wgs, *geo.to_wgs84(*bd, "bd09")) < 1.0
    assert geo.to_wgs84(48.85, 2.35, "gcj02") == (48.85, 2.35)  # outside China there is no offset


def test_cells_around_cover_every_point_within_the_radius():
    lat, lon, size = 30.6283, 104.052115, 0.005
    cells = set(geo.cells_around(lat, lon, 300, size))
    for dlat in (-0.0027, 0, 0.0027):
        for dlon in (-0.0031, 0, 0.0031):
            p = (lat + dlat, lon + dlon)
            if geo.distance_m(lat, lon, *p) <= 300:
                assert geo.cell_of(*p, size) in cells
    assert len(cells) <= 9
