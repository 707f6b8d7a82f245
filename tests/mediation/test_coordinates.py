"""The place of an application (POST /disputes) names its coordinate system, as a case's does at intake, by the
same rule and transform (shared/geo.py): never guessed (a GCJ-02 point read as WGS-84 lands ~360 m off, here in
another community and so before another committee), stored in WGS-84, refused outside the service area."""

import json

import pytest
from sqlalchemy import select

from services.intake import config as intake_config
from services.mediation import config
from services.mediation.models import Dispute
from services.mediation.seed import committee_id
from shared import geo

from .conftest import auth, events
from .helpers import RESIDENT

BASE = "/mediation/v1/disputes"
NORTH, EAST = committee_id("TJW-510107001001"), committee_id("TJW-510107001002")  # 玉林北路, 玉林东路
# Inside 玉林北路社区 near its eastern edge; what wx.chooseLocation gives there (GCJ-02) is, read as WGS-84, a
# point in 玉林东路社区.
HOME = (30.6300, 104.0540)
HOME_GCJ = geo.wgs84_to_gcj02(*HOME)


def _apply(client, rt, **point):
    body = {"dispute_type": "neighbour", "matter": "楼上住户夜间拖动家具、装修噪声，多次沟通无果。", **point,
            "parties": [{"role": "applicant", "name": "刘淑芬"},
                        {"role": "respondent", "name": "王某", "phone": "13900001111"}]}
    return client.post(BASE, json=body, headers=auth(rt, RESIDENT, "resident"))


def _stored(rt) -> list[tuple[float, float]]:
    with rt.uow() as s:
        return [(d.lat, d.lon) for d in s.scalars(select(Dispute))]


def test_a_point_without_its_coordinate_system_is_refused_not_guessed(client, rt):
    r = _apply(client, rt, lat=HOME_GCJ[0], lon=HOME_GCJ[1])
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("dispute.coord_system_required", "coord_system")
    assert "坐标系" in error["message"]
    assert events(rt) == [] and _stored(rt) == []  # refused: nothing written


def test_a_gcj02_point_is_converted_and_goes_to_the_committee_of_its_place(client, rt):
    r = _apply(client, rt, lat=HOME_GCJ[0], lon=HOME_GCJ[1], coord_system="gcj02")
    assert r.status_code == 201, r.text
    assert r.json()["committee_id"] == NORTH
    [(lat, lon)] = _stored(rt)
    assert geo.distance_m(lat, lon, *HOME) < 1  # stored in WGS-84
    # The same numbers from a GPS (WGS-84) are a place in the next community: its committee takes it.
    r = _apply(client, rt, lat=HOME_GCJ[0], lon=HOME_GCJ[1], coord_system="wgs84")
    assert r.status_code == 201, r.text
    assert r.json()["committee_id"] == EAST
    bd = _bd09_of(*HOME_GCJ)
    r = _apply(client, rt, lat=bd[0], lon=bd[1], coord_system="bd09")
    assert r.status_code == 201 and r.json()["committee_id"] == NORTH


@pytest.mark.parametrize("point, code, field", [
    ({"lat": 30.63, "coord_system": "wgs84"}, "dispute.location_pair", "lon"),
    ({"lon": 104.05, "coord_system": "gcj02"}, "dispute.location_pair", "lat"),
    ({"lat": 39.9042, "lon": 116.4074, "coord_system": "wgs84"}, "dispute.outside_service_area", "lat"),  # Beijing
    ({"lat": 30.63, "lon": 104.05, "coord_system": "wgs"}, "validation.not_allowed", "coord_system"),
    ({"lat": 91, "lon": 104.05, "coord_system": "wgs84"}, "validation.out_of_range", "lat"),
])
def test_a_bad_point_is_a_422_naming_the_field_and_changes_nothing(client, rt, point, code, field):
    r = _apply(client, rt, **point)
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field)
    assert events(rt) == [] and _stored(rt) == []


def test_no_point_is_still_an_application(client, rt):
    r = _apply(client, rt, committee_id=NORTH)
    assert r.status_code == 201, r.text
    assert _stored(rt) == [(None, None)]


def test_mediation_and_intake_take_points_in_the_same_service_area():
    """One deployment, one area: a case intake takes is a dispute mediation takes."""
    assert config.get().procedure.service_area.polygons == intake_config.get().service_area.polygons
    shipped = json.loads((config.DATA / "procedure.json").read_text(encoding="utf-8"))
    assert shipped["service_area"]["name"] == intake_config.get().service_area.name


def _bd09_of(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 (Baidu's published forward offset), to send a point as Baidu Maps gives it."""
    import math
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * geo.X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * geo.X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065
