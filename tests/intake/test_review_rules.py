"""Review findings: rules of withdrawal when others depend on a case, and bad list filters."""

from .conftest import GRID_POINT

NEAR = {"lat": 30.6284, "lon": 104.0522}


def test_a_case_others_joined_or_were_merged_into_cannot_be_withdrawn_from_under_them(intake):
    parent = intake.submit()
    child = intake.submit(user_id="u-resident-2", description="东门垃圾没人收", **NEAR)
    assert intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": parent["id"]},
                              headers=intake.auth("street_dispatcher")).status_code == 200
    assert intake.get(parent["id"])["can"]["withdraw"] is False
    r = intake.client.post(f"/intake/v1/cases/{parent['id']}/withdraw", headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.shared_cannot_withdraw"
    assert r.json()["error"]["field"] == "interest_count"
    assert intake.get(child["id"], user_id="u-resident-2")["status"] == "submitted"
    assert intake.events("intake.case.withdrawn") == []
    joined = intake.submit(**GRID_POINT, description="楼下路灯不亮了", category="facility.streetlight")
    assert intake.client.post(f"/intake/v1/cases/{joined['id']}/join",
                              headers=intake.auth("resident", "u-resident-3")).status_code == 200
    r = intake.client.post(f"/intake/v1/cases/{joined['id']}/withdraw", headers=intake.auth("resident"))
    assert r.status_code == 409


def test_an_unknown_status_filter_is_a_4xx_not_an_empty_page(intake):
    intake.submit()
    r = intake.client.get("/intake/v1/cases", params={"status": "closedd"}, headers=intake.auth("resident"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "status"
    assert r.json()["error"]["code"] == "validation.not_allowed"


def test_the_timeout_scan_never_overwrites_an_answer_already_given_for_the_handling(intake):
    from datetime import timedelta

    from services.intake.cases import expire_evaluations
    from shared.db import utcnow
    from shared.events.routing import CaseResolved, CaseVerified

    from .conftest import work_order
    from .test_lifecycle import resolve

    case = intake.submit()
    resolve(intake, case)
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation",
                           json={"contacted": True, "solved": True, "satisfaction": "满意"},
                           headers=intake.auth("resident"))
    assert r.status_code == 200
    # the supervisor's check fails and the unit resolves the same work order again
    intake.deliver(CaseVerified(**work_order(case, 5), verifier_id="s", passed=False, note="现场仍有垃圾"))
    intake.deliver(CaseResolved(**work_order(case, 6), actor_id="w", outcome="解决到位", result_text="已再次清运"))
    assert intake.get(case["id"])["status"] == "resolved"
    with intake.rt.uow() as s:
        assert expire_evaluations(s, intake.rt.outbox, utcnow() + timedelta(days=8)) == 0
    assert [e["data"]["evaluated"] for e in intake.events("intake.case.evaluated")] == [True]
