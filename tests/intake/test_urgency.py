"""Urgency: the category's level raised by keywords; staff decide it, a requester only asks (the
request is recorded for staff); and the clocks it sets, end to end: the stricter of the urgency's
profile and the category's, at dispatch and after a later change alike (routing's clocks.profile_for)."""

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from services.cluster import wait_for
from services.embedded import Embedded
from shared.auth import access_claims, demo_token, sign
from shared.config import get_settings
from shared.keys import signing_keys

from .conftest import GRID_POINT, dispatched


def test_a_residents_higher_urgency_is_recorded_as_a_request_and_staff_decide(intake):
    case = intake.submit(urgency="紧急")  # a garbage complaint: 一般 by its category
    assert case["urgency"] == "一般" and case["requested_urgency"] == "紧急"
    [event] = intake.events("intake.case.submitted")
    assert event["data"]["urgency"] == "一般"  # routing's clocks follow the case's urgency, not the wish
    mine = intake.get(case["id"])
    assert "urgency_requested" in [t["kind"] for t in mine["timeline"]]  # she sees it was recorded

    intake.deliver(dispatched(case))  # in the street's scope now
    staff = intake.auth("street_dispatcher")
    listed = intake.client.get("/intake/v1/cases", params={"urgency_requested": "true"}, headers=staff).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]
    assert intake.get(case["id"], "street_dispatcher")["requested_urgency"] == "紧急"

    r = intake.client.post(f"/intake/v1/cases/{case['id']}/urgency", json={"urgency": "紧急", "reason": "腐烂气味"},
                           headers=staff)
    assert r.status_code == 200 and r.json()["urgency"] == "紧急" and r.json()["requested_urgency"] is None
    [changed] = intake.events("intake.case.urgency_changed")
    assert (changed["data"]["urgency"], changed["data"]["previous"]) == ("紧急", "一般")
    assert "urgency_decided" in [t["kind"] for t in intake.get(case["id"])["timeline"]]
    listed = intake.client.get("/intake/v1/cases", params={"urgency_requested": "true"}, headers=staff).json()
    assert listed["items"] == []


def test_staff_keeping_the_level_answer_the_request_without_touching_the_clocks(intake):
    case = intake.submit(urgency="特急")  # she may ask for anything: staff decide
    assert (case["urgency"], case["requested_urgency"]) == ("一般", "特急")
    intake.deliver(dispatched(case))
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/urgency", json={"urgency": "一般"},
                           headers=intake.auth("street_dispatcher"))
    assert r.status_code == 200 and (r.json()["urgency"], r.json()["requested_urgency"]) == ("一般", None)
    assert intake.events("intake.case.urgency_changed") == []
    decided = [t["text"] for t in intake.get(case["id"])["timeline"] if t["kind"] == "urgency_decided"]
    assert decided == ["反映人希望的紧急程度“特急”经研判定为“一般”"]


def test_keywords_and_staff_set_the_urgency_and_a_request_at_or_below_it_records_nothing(intake):
    leak = intake.submit(category="utility.water", description="楼道里燃气泄漏，味道很重", urgency="紧急")
    assert (leak["urgency"], leak["requested_urgency"]) == ("特急", None)  # the keyword, nothing to decide
    by_staff = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True,
                             urgency="特急")
    assert (by_staff["urgency"], by_staff["requested_urgency"]) == ("特急", None)
    lower = intake.submit(category="utility.water", description="小区停水", urgency="一般")
    assert (lower["urgency"], lower["requested_urgency"]) == ("紧急", None)  # never lowered by a request
    r = intake.client.post(f"/intake/v1/cases/{lower['id']}/urgency", json={"urgency": "特急"},
                           headers=intake.auth("resident"))
    assert r.status_code == 403  # a requester asks when filing; she never sets it


def test_a_follower_does_not_see_the_reporters_request(intake):
    case = intake.submit(urgency="紧急")
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=intake.auth("resident", "u-resident-2"))
    assert r.status_code == 200 and r.json()["requested_urgency"] is None
    said = [t["text"] for t in r.json()["timeline"] if t["kind"] == "urgency_requested"]
    assert said == ["已记录反映人对紧急程度的请求，由工作人员研判"]  # not what she asked for


# ---------------------------------------------------------------- the clocks, through both services


def _order(client, headers, case_id):
    """The case's work order as routing shows its handler: its clock profile and deadlines."""
    orders = client.get("/routing/v1/work-orders/mine", headers=headers).json()["items"]
    found = next((o for o in orders if o["case_id"] == case_id), None)
    return found and client.get(f"/routing/v1/work-orders/{found['id']}", headers=headers).json()


def _sign_minutes(order) -> float:
    sign = datetime.fromisoformat(order["deadlines"]["sign"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    return (sign - created) / timedelta(minutes=1)


def test_a_keyword_raised_life_safety_case_gets_the_15_minute_clocks_and_its_categorys_when_lowered(tmp_path):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    system = Embedded(settings)
    system.prepare()
    system.start()
    try:
        client = TestClient(system.asgi())
        resident, admin = ({"Authorization": f"Bearer {demo_token(settings, role)}"} for role in ("resident", "admin"))
        # utility.water goes to the water company's service station (deploy/demo): its handler's orders.
        claims = access_claims(settings, user_id="u-department-handler-900006", role="department_handler",
                               unit_codes=("510107900006000",), session_id="dev-urgency")
        worker = {"Authorization": f"Bearer {sign(claims, signing_keys(settings).active)}"}
        r = client.post("/intake/v1/cases", headers=resident, json={
            "category": "utility.water", "description": "爆管停水，电梯里有人被困", **GRID_POINT})
        assert r.status_code == 201 and r.json()["urgency"] == "特急", r.text
        case_id = r.json()["id"]
        order = wait_for(lambda: _order(client, worker, case_id))
        # utility.water's own profile is 紧急 (30 min / 24 h): the urgency's 特急 is stricter and wins.
        assert order["clock_profile"] == "特急" and _sign_minutes(order) == 15

        r = client.post(f"/intake/v1/cases/{case_id}/urgency", json={"urgency": "一般", "reason": "无人被困"},
                        headers=admin)
        assert r.status_code == 200, r.text
        lowered = wait_for(lambda: o if (o := _order(client, worker, case_id))["clock_profile"] != "特急" else None)
        assert lowered["clock_profile"] == "紧急" and _sign_minutes(lowered) == 30  # the category's again
    finally:
        system.stop()


def test_staff_cannot_change_the_urgency_of_a_finished_case_and_nothing_is_written(intake):
    case = intake.submit()
    intake.deliver(dispatched(case))
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/withdraw", json={},
                              headers=intake.auth("resident")).status_code == 200
    before = intake.get(case["id"], "admin")
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/urgency", json={"urgency": "特急"},
                           headers=intake.auth("admin"))
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "case.cannot_change_urgency" and r.json()["error"]["field"] == "status"
    after = intake.get(case["id"], "admin")
    assert (after["urgency"], after["timeline"], after["updated_at"]) == \
        (before["urgency"], before["timeline"], before["updated_at"])
    assert intake.events("intake.case.urgency_changed") == []
