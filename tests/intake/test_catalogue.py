"""The category catalogue: a tree as data, published by staff in versions; its clock profiles are
the ones routing knows."""

import copy
import json
import shutil

import pytest
from pydantic import ValidationError

from services.intake import config
from services.intake.service import SPEC
from shared.config import get_settings


def current(intake) -> dict:
    r = intake.client.get("/intake/v1/catalogue", headers=intake.auth("resident"))
    assert r.status_code == 200
    return r.json()


def test_the_catalogue_is_a_tree_with_everything_a_category_needs(intake):
    doc = current(intake)
    assert doc["version"] == 1
    codes = {}

    def walk(nodes):
        for n in nodes:
            codes[n["code"]] = n
            walk(n.get("children", []))

    walk(doc["categories"])
    for kept in ("env.garbage", "facility.streetlight", "utility.water", "utility.gas", "dispute.neighbour"):
        assert kept in codes
    assert codes["env.noise"]["questions"][0]["choices"] == ["白天", "夜间", "全天"]
    assert codes["utility.gas"]["urgency"] == "特急" and codes["utility.gas"]["clock_profile"] == "life_safety"
    assert codes["dispute"]["route"] == "mediation" and codes["facility.road"]["duplicate"]["radius_m"] == 100


def test_staff_publish_a_new_version_and_cases_use_it(intake):
    doc = current(intake)
    edited = copy.deepcopy(doc)
    env = edited["categories"][0]
    env["children"].append({"code": "env.pests", "name": "鼠患虫害", "name_en": "Pests", "class": "小事",
                            "urgency": "一般"})
    env["children"][0]["active"] = False  # env.garbage no longer used
    body = {"base_version": 1, "catalogue": {k: v for k, v in edited.items() if k != "version"}}
    assert intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("resident")).status_code == 403
    assert intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("operator")).status_code == 403
    r = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "catalogue.version_conflict"
    assert current(intake)["version"] == 2
    new = intake.submit(category="env.pests", description="楼道里老鼠很多")
    assert new["category_name"] == "鼠患虫害"
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "垃圾"},
                           headers=intake.auth("resident"))
    assert r.json()["error"]["code"] == "case.category_inactive"
    versions = intake.client.get("/intake/v1/catalogue/versions", headers=intake.auth("admin")).json()
    assert [v["version"] for v in versions] == [2, 1]
    v1 = intake.client.get("/intake/v1/catalogue/versions/1", headers=intake.auth("admin")).json()
    assert "env.pests" not in str(v1)


def test_a_code_cannot_be_removed_and_a_bad_tree_is_refused(intake):
    doc = current(intake)
    edited = copy.deepcopy(doc)
    edited["categories"][0]["children"].pop(0)
    body = {"base_version": 1, "catalogue": {k: v for k, v in edited.items() if k != "version"}}
    r = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "catalogue.code_removed"
    edited = copy.deepcopy(doc)
    edited["categories"][1]["children"].append(dict(edited["categories"][0]["children"][0]))
    body = {"base_version": 1, "catalogue": {k: v for k, v in edited.items() if k != "version"}}
    r = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert r.json()["error"]["code"] == "catalogue.duplicate_code"
    edited = copy.deepcopy(doc)
    edited["categories"][0]["children"][0]["urgency"] = "很急"
    body = {"base_version": 1, "catalogue": {k: v for k, v in edited.items() if k != "version"}}
    r = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation.not_allowed"
    assert current(intake)["version"] == 1


def test_a_catalogue_naming_a_clock_profile_routing_does_not_know_is_refused_and_changes_nothing(intake):
    doc = current(intake)
    edited = copy.deepcopy(doc)
    edited["categories"][0]["children"][1]["clock_profile"] = "leisurely"
    body = {"base_version": 1, "catalogue": {k: v for k, v in edited.items() if k != "version"}}
    r = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "catalogue.invalid"
    assert error["field"] == "categories.0.children.1.clock_profile" and "leisurely" in error["detail"]
    edited = copy.deepcopy(doc)
    edited["defaults"]["clock_profile"] = "leisurely"
    body = {"base_version": 1, "catalogue": {k: v for k, v in edited.items() if k != "version"}}
    r = intake.client.put("/intake/v1/catalogue", json=body, headers=intake.auth("admin"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "defaults.clock_profile"
    assert current(intake)["version"] == 1
    versions = intake.client.get("/intake/v1/catalogue/versions", headers=intake.auth("admin")).json()
    assert [v["version"] for v in versions] == [1]


def test_the_shipped_catalogue_uses_only_the_configured_clock_profiles():
    cfg = config.get()
    assert cfg.clock_profiles == ("general", "utility", "life_safety", "complex", "mediation")
    assert {name for _, name in cfg.catalogue.clock_profiles()} <= set(cfg.clock_profiles)
    assert SPEC.config is config.get  # validated when a runtime is built


def test_a_shipped_catalogue_naming_an_unknown_clock_profile_stops_start_up(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data)
    doc = json.loads((data / "catalogue.json").read_text(encoding="utf-8"))
    doc["categories"][2]["children"][0]["clock_profile"] = "leisurely"
    (data / "catalogue.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_INTAKE_DATA_DIR", str(data))
    config.get.cache_clear()
    try:
        with pytest.raises(ValidationError, match=r"catalogue\.categories\.2\.children\.0\.clock_profile"):
            SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path), f"sqlite:///{tmp_path / 'x.sqlite'}")
    finally:
        config.get.cache_clear()
