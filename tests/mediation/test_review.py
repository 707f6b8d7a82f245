"""Review findings: audit that survives a failing request, refusal and 回避 at every stage, bad dates,
supervisor masking, statistics edge cases and the agreement's confirmations."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.mediation.models import AuditLog

from .conftest import auth, events
from .helpers import CHAIR, MEDIATOR, RESIDENT, RESIDENT_2, accepted, apply, respondent_of

BASE = "/mediation/v1/disputes"


def _audit(rt, dispute_id, action):
    with rt.uow() as s:
        return [(r.user_id, r.allowed, r.capacity) for r in s.scalars(
            select(AuditLog).where(AuditLog.dispute_id == dispute_id, AuditLog.action == action)
            .order_by(AuditLog.id))]


def test_a_read_that_passes_the_check_and_then_fails_is_still_audited(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.get(f"{BASE}/{d['id']}/agreement", headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "agreement.not_found"
    assert _audit(rt, d["id"], "read.agreement") == [(RESIDENT, True, "party")]
    r = client.get(f"{BASE}/{d['id']}/risk", headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403
    assert _audit(rt, d["id"], "read.risk") == [(RESIDENT, True, "party")]


def test_naive_datetimes_get_a_4xx_not_a_500(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": "2030-01-01T09:00:00", "place": "调解室"},
                    headers=auth(rt, MEDIATOR))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "starts_at", r.text
    r = client.get("/mediation/v1/statistics", params={"from": "2026-04-01T00:00:00"},
                   headers=auth(rt, "u-supervisor-1", "supervisor"))
    assert r.status_code == 422, r.text


def _applicant(d):
    return next(p for p in d["parties"] if p["role"] == "applicant")


def test_a_party_refusing_after_acceptance_ends_the_mediation(client, rt):
    d = accepted(client, rt, respondent_user=RESIDENT_2, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": False, "reason": "不想再调解了，准备起诉"},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed" and r.json()["routes"]
    failed = events(rt, "mediation.case.failed")
    assert len(failed) == 1 and failed[0]["data"]["reason"] == "failed"
    # A party who consented and changes their mind before acceptance refuses it as well.
    d2 = apply(client, rt, respondent_user=RESIDENT_2)
    client.post(f"{BASE}/{d2['id']}/consent", json={"consent": True}, headers=auth(rt, RESIDENT_2, "resident"))
    r = client.post(f"{BASE}/{d2['id']}/consent", json={"consent": False}, headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert client.post(f"{BASE}/{d2['id']}/accept", headers=auth(rt, CHAIR)).status_code == 409


def test_an_objection_before_acceptance_to_the_requested_mediator_does_not_block_acceptance(client, rt):
    d = apply(client, rt, respondent_user=RESIDENT_2, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/objections", json={"mediator_id": MEDIATOR, "reason": "与申请人是朋友"},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200, r.text
    client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, headers=auth(rt, RESIDENT_2, "resident"))
    r = client.post(f"{BASE}/{d['id']}/accept", headers=auth(rt, CHAIR))
    assert r.status_code == 200, r.text
    assert r.json()["mediators"] and MEDIATOR not in [m["id"] for m in r.json()["mediators"]]


def test_an_objection_is_kept_even_when_nobody_can_replace_the_mediator(client, rt):
    d = accepted(client, rt, dispute_type="labour", respondent_user=RESIDENT_2)
    only = d["mediators"][0]["id"]  # the labour committee has a single mediator
    r = client.post(f"{BASE}/{d['id']}/objections", json={"mediator_id": only, "reason": "曾代理对方"},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200, r.text
    assert r.json()["replaced"] and r.json()["mediator_ids"] == []
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, only)).status_code == 404
    r = client.post(f"{BASE}/{d['id']}/assign", json={"mediator_id": only}, headers=auth(rt, "u-supervisor-1",
                                                                                          "supervisor"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "mediator.objected"


def test_the_committee_head_terminating_sees_contact_details_masked(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/terminate", json={"reason": "双方分歧过大"}, headers=auth(rt, CHAIR))
    assert r.status_code == 200 and r.json()["viewer_capacity"] == "supervisor"
    assert respondent_of(r.json())["phone"] == "139****1111"


def test_party_details_of_a_closed_dispute_cannot_change_and_a_change_asks_for_fresh_confirmations(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    resp = respondent_of(d)
    body = {"facts": "装修噪声纠纷", "terms": [{"party_id": resp["id"], "obligation": "夜间停止施工"}]}
    client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=mediator)
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    assert r.json()["confirmed_party_ids"] == [_applicant(d)["id"]]
    # The obligor's name on the agreement changes: what the applicant confirmed is no longer the document.
    r = client.patch(f"{BASE}/{d['id']}/parties/{resp['id']}", headers=mediator,
                     json={"role": "respondent", "name": "王建国", "phone": "13900001111"})
    assert r.status_code == 200, r.text
    assert client.get(f"{BASE}/{d['id']}/agreement", headers=mediator).json()["confirmed_party_ids"] == []
    client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={"party_id": resp["id"]}, headers=mediator)
    assert r.json()["status"] == "signed"
    r = client.patch(f"{BASE}/{d['id']}/parties/{resp['id']}", headers=mediator,
                     json={"role": "respondent", "name": "李四", "phone": "13900001111"})
    assert r.status_code == 409
    assert respondent_of(client.get(f"{BASE}/{d['id']}", headers=mediator).json())["name"] == "王建国"


def test_a_dispute_terminated_before_acceptance_does_not_count_against_the_resolution_rate(rt):
    from services.mediation import stats
    from services.mediation.models import Dispute
    from services.mediation.seed import committee_id

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    north = committee_id("TJW-510107001001")
    with rt.uow() as s:
        for n, status, accepted_days, closed_days in [(1, "succeeded", 1, 11), (2, "failed", 1, 5),
                                                      (3, "failed", None, 2)]:  # never mediated
            s.add(Dispute(id=f"d{n}", dispute_no=f"TJ-T-{n}", source="application", dispute_type="neighbour",
                          status=status, committee_id=north, matter="测试纠纷事实", applied_at=t0, seq=0,
                          accepted_at=t0 + timedelta(days=accepted_days) if accepted_days is not None else None,
                          closed_at=t0 + timedelta(days=closed_days)))
    with rt.uow() as s:
        total = stats.compute(s)["total"]
    assert (total["accepted"], total["succeeded"], total["failed"]) == (2, 1, 2)
    assert total["resolution_rate"] == 0.5  # 1 of the 2 mediated, not 1 of 3
    assert total["average_days"] == 7.0


def test_two_parties_confirming_at_the_same_time_sign_the_agreement_on_postgresql(pg_database, tmp_path):
    """Each confirmation sees the other's: the row lock serialises them, and the second one signs."""
    import threading
    import time

    from fastapi.testclient import TestClient

    from services.mediation import access
    from services.mediation import agreement as agreements
    from services.mediation.models import Party
    from services.mediation.service import SPEC
    from shared.auth import User
    from shared.config import get_settings
    from shared.migrate import upgrade

    upgrade("mediation", pg_database)
    pg = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path), pg_database)
    try:
        SPEC.seed(pg)
        client = TestClient(SPEC.app(pg))
        d = accepted(client, pg, respondent_user=RESIDENT_2, requested_mediator_id=MEDIATOR)
        body = {"facts": "装修噪声纠纷", "terms": [{"party_id": respondent_of(d)["id"], "obligation": "夜间停止施工"}]}
        assert client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=auth(pg, MEDIATOR)).status_code == 200
        confirmed, go = threading.Event(), threading.Event()

        def applicant_confirms():
            with access.audited_uow(pg.sessions) as s:
                dispute, _cap = access.readable(s, d["id"], User(id=RESIDENT, role="resident"), "write.confirmation")
                party = s.get(Party, _applicant(d)["id"])
                agreements.confirm(s, lambda p: pg.outbox.emit(s, p), dispute, agreements.of(s, dispute.id), party,
                                   "online", RESIDENT)
                confirmed.set()
                go.wait(10)  # still uncommitted while the respondent confirms

        answers = []
        a = threading.Thread(target=applicant_confirms)
        b = threading.Thread(target=lambda: answers.append(client.post(
            f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(pg, RESIDENT_2, "resident"))))
        a.start()
        assert confirmed.wait(10)
        b.start()
        time.sleep(0.5)
        go.set()
        a.join(10)
        b.join(10)
        assert answers[0].status_code == 200, answers[0].text
        got = client.get(f"{BASE}/{d['id']}/agreement", headers=auth(pg, MEDIATOR)).json()
        assert got["status"] == "signed" and len(got["confirmed_party_ids"]) == 2
    finally:
        pg.dispose()


def test_staff_referring_a_case_to_mediation_is_not_the_applicants_consent(client, rt):
    import uuid

    from services.mediation.service import SPEC
    from shared.events import envelope_for
    from shared.events.intake import CaseReferred

    referred = CaseReferred(case_id=str(uuid.uuid4()), case_no="YL-20260101-0002", category="dispute.neighbour",
                            dispute_type="neighbour", reporter_id=RESIDENT, lat=30.6283, lon=104.052115,
                            by_id="u-operator-1", at=datetime.now(UTC))  # 转调解 by a dispatcher
    SPEC.dispatcher(rt).handle(envelope_for(referred).to_bytes())
    dispute_id = events(rt, "mediation.case.applied")[0]["data"]["dispute_id"]
    view = client.get(f"{BASE}/{dispute_id}", headers=auth(rt, RESIDENT, "resident")).json()
    assert _applicant(view)["consent"] == "pending"
    r = client.post(f"{BASE}/{dispute_id}/consent", json={"consent": False, "reason": "我只想让物业处理"},
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 200 and r.json()["status"] == "refused"


def test_statistics_reads_are_audited_and_a_refused_one_too(client, rt):
    assert client.get("/mediation/v1/statistics", headers=auth(rt, RESIDENT, "resident")).status_code == 403
    assert client.get("/mediation/v1/statistics", headers=auth(rt, MEDIATOR)).status_code == 200
    assert _audit(rt, None, "read.statistics") == [(RESIDENT, False, None), (MEDIATOR, True, None)]


def test_a_dispute_of_a_type_since_removed_from_the_configuration_still_reads(client, rt, monkeypatch):
    from services.mediation import config

    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    types = {k: v for k, v in config.dispute_types().items() if k != "neighbour"}
    monkeypatch.setattr(config, "dispute_types", lambda: types)
    r = client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR))
    assert r.status_code == 200 and r.json()["type_name"] == "neighbour"
    assert client.get(BASE, headers=auth(rt, MEDIATOR)).status_code == 200


def test_the_audit_log_is_paged(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    for _ in range(3):
        client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT, "resident"))
    page = client.get(f"{BASE}/{d['id']}/audit", params={"limit": 2}, headers=auth(rt, CHAIR)).json()
    assert len(page) == 2
