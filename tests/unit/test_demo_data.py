"""Consistency checks for the demo district in deploy/demo (org.geojson, users.json)."""

import json
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo"

PARENT_LEVEL = {
    "district": None,
    "street": "district",
    "community": "street",
    "grid": "community",
    "department": "district",
}
ROLES = {
    "resident",
    "operator",
    "grid_worker",
    "community_staff",
    "street_dispatcher",
    "department_handler",
    "mediator",
    "supervisor",
    "admin",
}
EPS = 1e-12


@pytest.fixture(scope="module")
def features() -> list[dict]:
    data = json.loads((DEMO / "org.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    return data["features"]


@pytest.fixture(scope="module")
def units(features) -> dict[str, dict]:
    return {f["properties"]["code"]: f for f in features}


@pytest.fixture(scope="module")
def polygons(features) -> dict[str, object]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in features if f["geometry"] is not None}


@pytest.fixture(scope="module")
def users() -> list[dict]:
    return json.loads((DEMO / "users.json").read_text(encoding="utf-8"))


def children(features, code: str, level: str | None = None) -> list[str]:
    return [
        f["properties"]["code"]
        for f in features
        if f["properties"]["parent_code"] == code and level in (None, f["properties"]["level"])
    ]


def test_codes_unique_15_digits(features):
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert isinstance(code, str) and re.fullmatch(r"\d{15}", code), code


def test_required_properties(features):
    for f in features:
        p = f["properties"]
        for key in ("code", "name", "name_en", "level", "parent_code", "households"):
            assert key in p, (p.get("code"), key)
        assert p["level"] in PARENT_LEVEL
        assert isinstance(p["households"], int) and not isinstance(p["households"], bool)
        if p["level"] == "department":
            assert f["geometry"] is None
            assert p["kind"] in {"department", "utility"}
        else:
            assert f["geometry"]["type"] == "Polygon"
            assert "centroid_hint" in p


def test_hierarchy(features, units):
    districts = [f for f in features if f["properties"]["level"] == "district"]
    assert len(districts) == 1
    for f in features:
        p = f["properties"]
        expected = PARENT_LEVEL[p["level"]]
        if expected is None:
            assert p["parent_code"] is None
        else:
            assert p["parent_code"] in units, p["code"]
            assert units[p["parent_code"]]["properties"]["level"] == expected, p["code"]
            if p["level"] != "department":
                # the parent's code is the child's code with its own 3 digits zeroed
                prefix = {"street": 6, "community": 9, "grid": 12}[p["level"]]
                assert p["code"].startswith(p["parent_code"][:prefix]), p["code"]


def test_household_sums(features, units):
    for f in features:
        p = f["properties"]
        if p["level"] == "grid":
            assert 300 <= p["households"] <= 500, p["code"]
        elif p["level"] in {"community", "street"}:
            kids = children(features, p["code"])
            assert p["households"] == sum(units[k]["properties"]["households"] for k in kids), p["code"]


def test_polygons_valid_closed(features, polygons):
    for f in features:
        if f["geometry"] is None:
            continue
        code = f["properties"]["code"]
        rings = f["geometry"]["coordinates"]
        outer = rings[0]
        assert outer[0] == outer[-1], code
        assert 6 <= len(outer) - 1 <= 12, code
        assert polygons[code].is_valid, code
        assert polygons[code].exterior.is_ccw, code
        assert polygons[code].area > 0, code
        for lon, lat in outer:
            assert 73 < lon < 136 and 3 < lat < 54, code  # WGS-84 lon/lat order, inside China


def test_at_least_four_grids(features):
    assert sum(1 for f in features if f["properties"]["level"] == "grid") >= 4


@pytest.mark.parametrize("parent_level,child_level", [("street", "community"), ("community", "grid")])
def test_children_tile_parent(features, polygons, parent_level, child_level):
    parents = [f["properties"]["code"] for f in features if f["properties"]["level"] == parent_level]
    assert parents
    for parent in parents:
        kids = children(features, parent, child_level)
        assert len(kids) >= 2, parent
        union = unary_union([polygons[k] for k in kids])
        assert union.symmetric_difference(polygons[parent]).area < EPS, parent
        for a, b in combinations(kids, 2):
            assert polygons[a].intersection(polygons[b]).area < EPS, (a, b)


def test_streets_inside_district(features, polygons):
    for district in (f["properties"]["code"] for f in features if f["properties"]["level"] == "district"):
        for street in children(features, district, "street"):
            assert polygons[district].contains(polygons[street]), street


def test_centroid_hints(features, polygons):
    for f in features:
        p = f["properties"]
        if f["geometry"] is None:
            continue
        hint = p["centroid_hint"]
        if p["level"] in {"district", "grid"}:
            assert hint is not None, p["code"]
        if hint is None:
            continue
        point = Point(hint)
        assert polygons[p["code"]].contains(point), p["code"]
        for kid in children(features, p["code"]):
            if kid in polygons:
                assert not polygons[kid].intersects(point), (p["code"], kid)


def test_users_units_exist(users, units):
    for u in users:
        assert u["role"] in ROLES, u["id"]
        if u["role"] == "resident":
            assert u["unit_code"] is None, u["id"]
        else:
            assert u["unit_code"] in units, u["id"]
            assert isinstance(u.get("on_duty", True), bool), u["id"]


def test_user_ids_unique_and_all_roles(users):
    ids = [u["id"] for u in users]
    assert len(ids) == len(set(ids))
    assert {u["role"] for u in users} >= ROLES
    assert {"u-resident-1", "u-resident-2", "u-resident-3"} <= set(ids)


def test_one_grid_worker_per_grid(features, users):
    grids = {f["properties"]["code"] for f in features if f["properties"]["level"] == "grid"}
    workers = [u for u in users if u["role"] == "grid_worker"]
    counts = Counter(u["unit_code"] for u in workers)
    assert set(counts) == grids
    assert all(n == 1 for n in counts.values())
    for u in workers:
        assert u["id"] == f"u-grid-worker-{u['unit_code'][-6:]}"
    assert workers[0]["unit_code"] == "510107001001001"


def test_first_user_per_role_units(users, units):
    first: dict[str, dict] = {}
    for u in users:
        first.setdefault(u["role"], u)
    expected_level = {
        "operator": "district",
        "grid_worker": "grid",
        "community_staff": "community",
        "street_dispatcher": "street",
        "department_handler": "department",
        "mediator": "community",
        "supervisor": "district",
        "admin": "district",
    }
    for role, level in expected_level.items():
        assert units[first[role]["unit_code"]]["properties"]["level"] == level, role
    # every department has a handler
    departments = {c for c, f in units.items() if f["properties"]["level"] == "department"}
    handled = {u["unit_code"] for u in users if u["role"] == "department_handler"}
    assert departments <= handled


def test_phones(users):
    phones = [u["phone"] for u in users]
    assert len(phones) == len(set(phones))
    for phone in phones:
        assert isinstance(phone, str) and re.fullmatch(r"1\d{10}", phone), phone
