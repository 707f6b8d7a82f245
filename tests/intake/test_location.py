"""A point a client sends: its coordinate system is said, never guessed (a GCJ-02 point taken as
WGS-84 lands about 360 m off), and it lies in the configured service area, or it is refused with a
stable code, a Chinese message and the field, changing nothing."""

import json
import shutil

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from services.intake import config, geo
from services.intake.models import Case

from .conftest import GRID_POINT, _intake

ROOT = config.DATA_DIR.parents[2]
GCJ_OF_GRID_POINT = geo.wgs84_to_gcj02(GRID_POINT["lat"], GRID_POINT["lon"])  # what wx.chooseLocation gives there
BEIJING = {"lat": 39.9087, "lon": 116.3975}


def count_cases(intake) -> int:
    with intake.rt.uow() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_a_point_without_its_coordinate_system_is_refused_naming_the_field_and_nothing_is_saved(intake):
    h = intake.auth("resident")
    point = {"lat": GCJ_OF_GRID_POINT[0], "lon": GCJ_OF_GRID_POINT[1]}  # a map picker's point, system unsaid
    for path, body in (("/intake/v1/cases", {"category": "env.garbage", "description": "东门垃圾没人收", **point}),
                       ("/intake/v1/cases/duplicates", {"category": "env.garbage", "description": "垃圾", **point})):
        r = intake.client.post(path, json=body, headers=h)
        assert r.status_code == 422, (path, r.text)
        err = r.json()["error"]
        assert (err["code"], err["field"]) == ("case.coord_system_required", "coord_system")
        assert "gcj02" in err["message"] and not err["message"].isascii()
    assert count_cases(intake) == 0 and intake.events("intake.case.submitted") == []
    # A case without a point (an address on the phone) needs no coordinate system.
    intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True, lat=None, lon=None,
                  coord_system=None, address="玉林北路 12 号")


def test_a_point_outside_the_service_area_is_refused_not_sent_to_a_fallback_unit(intake):
    h = intake.auth("resident")
    for path, body in (("/intake/v1/cases", {"category": "env.garbage", "description": "垃圾没人收", **BEIJING,
                                             "coord_system": "wgs84"}),
                       ("/intake/v1/cases/duplicates", {"category": "env.garbage", "description": "垃圾",
                                                        **BEIJING, "coord_system": "gcj02"})):
        r = intake.client.post(path, json=body, headers=h)
        assert r.status_code == 422, (path, r.text)
        err = r.json()["error"]
        assert (err["code"], err["field"], err["detail"]) == ("case.outside_service_area", "lat", "武侯区")
        assert "服务范围" in err["message"]
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "x", **BEIJING,
                                                     "coord_system": "wgs84"},
                           headers=intake.auth("resident", lang="en"))
    assert r.json()["error"]["message"].startswith("The point is outside the service area")
    assert count_cases(intake) == 0 and intake.events("intake.case.submitted") == []


def test_a_map_pickers_gcj02_point_is_placed_where_the_resident_picked_it(intake):
    case = intake.submit(lat=GCJ_OF_GRID_POINT[0], lon=GCJ_OF_GRID_POINT[1], coord_system="gcj02")
    assert geo.distance_m(case["lat"], case["lon"], GRID_POINT["lat"], GRID_POINT["lon"]) < 1
    [event] = intake.events("intake.case.submitted")
    assert geo.distance_m(event["data"]["lat"], event["data"]["lon"], GRID_POINT["lat"], GRID_POINT["lon"]) < 1
    # The same numbers taken as WGS-84 would have been this far off: why the system is never guessed.
    assert 300 < geo.distance_m(*GCJ_OF_GRID_POINT, GRID_POINT["lat"], GRID_POINT["lon"]) < 400


def test_the_api_docs_say_which_wechat_call_gives_which_coordinate_system(intake):
    schemas = intake.client.get("/intake/openapi.json").json()["components"]["schemas"]
    for name in ("CaseCreate", "DuplicateQuery"):
        text = schemas[name]["properties"]["coord_system"]["description"]
        assert not text[:10].isascii()  # Chinese first
        for said in ("wx.chooseLocation", "wx.getLocation", "gcj02", "wgs84", "bd09", "必填"):
            assert said in text, (name, said)
        assert "coord_system" in schemas[name]["properties"]["lat"]["description"]


def test_the_shipped_service_area_is_the_demo_districts_outline():
    features = json.loads((ROOT / "deploy" / "demo" / "org.geojson").read_text(encoding="utf-8"))["features"]
    [district] = [f for f in features if f["properties"]["level"] == "district"]
    area = config.get().service_area
    assert [list(map(list, ring)) for ring in area.polygons] == district["geometry"]["coordinates"]
    # every unit of the demo map lies inside it, so demo cases anywhere on the map are taken
    for f in features:
        if f["geometry"] is not None:
            for lon, lat in f["geometry"]["coordinates"][0]:
                assert geo.in_polygons(lat + (30.63 - lat) * 1e-6, lon + (104.05 - lon) * 1e-6, area.polygons)


def test_a_deployment_sets_its_own_service_area(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data)
    policy = json.loads((data / "policy.json").read_text(encoding="utf-8"))
    policy["service_area"] = {"name": "东城区", "polygons": [[[116.38, 39.89], [116.42, 39.89], [116.42, 39.93],
                                                              [116.38, 39.93]]]}
    (data / "policy.json").write_text(json.dumps(policy, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_INTAKE_DATA_DIR", str(data))
    config.get.cache_clear()
    fixture = _intake(tmp_path, f"sqlite:///{tmp_path / 'beijing.sqlite'}")
    try:
        intake = next(fixture)
        intake.submit(**BEIJING, coord_system="wgs84")
        r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "x",
                                                         **GRID_POINT}, headers=intake.auth("resident"))
        assert r.json()["error"]["code"] == "case.outside_service_area" and r.json()["error"]["detail"] == "东城区"
    finally:
        next(fixture, None)  # disposes of the runtime
        config.get.cache_clear()


@pytest.mark.parametrize("area, complaint", [
    ({"name": "x", "polygons": []}, "polygons"),
    ({"name": "x", "polygons": [[[104.0, 30.6], [104.1, 30.6]]]}, "at least 3 distinct points"),
    ({"name": "x", "polygons": [[[30.6, 104.0], [30.7, 104.0], [30.7, 104.1]]]}, "not a \\[lon, lat\\] pair"),
    ({"polygons": [[[104.0, 30.6], [104.1, 30.6], [104.1, 30.7]]]}, "name"),
])
def test_a_broken_service_area_stops_start_up(area, complaint):
    with pytest.raises(ValidationError, match=complaint):
        config.ServiceArea.model_validate(area)


def test_in_polygons_holds_the_inside_and_not_the_outside_of_a_concave_ring():
    ring = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (2.0, 1.0), (0.0, 4.0))  # a notch cut into the top ([lon, lat])
    assert geo.in_polygons(0.5, 1.0, [ring])
    assert not geo.in_polygons(3.0, 2.0, [ring])  # in the notch
    assert not geo.in_polygons(5.0, 1.0, [ring])  # above it
    assert geo.in_polygons(5.0, 1.0, [ring, ((0.0, 4.5), (6.0, 4.5), (6.0, 6.0), (0.0, 6.0))])  # any ring will do
