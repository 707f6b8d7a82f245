"""Issue 12, items 9 and 10 (mediation): when the agreement is in force, what performance is, who is reminded of
司法确认, which routes the parties are told of, and who hears of a new application.

人民调解法 第二十九条 (in force when every party signed, the mediator signed and the committee sealed it),
第三十一条 (the committee supervises performance), 第三十三条 (within 30 days of the effect both parties may
jointly apply to the people's court for 司法确认), 第二十六条 (调解不成: 仲裁、行政、司法等途径).
"""

import uuid
from datetime import UTC, datetime, timedelta

from services.mediation import clocks
from services.mediation.service import SPEC
from shared.events import envelope_for
from shared.events.intake import CaseReferred

from .conftest import auth, events
from .helpers import (
    CHAIR,
    GRID_1,
    MEDIATOR,
    RESIDENT,
    RESIDENT_2,
    accepted,
    applicant_of,
    apply,
    respondent_of,
    sign_and_seal,
)

BASE = "/mediation/v1/disputes"


def _drafted_and_signed_by_the_parties(client, rt, terms=None) -> dict:
    d = accepted(client, rt, respondent_user=RESIDENT_2, requested_mediator_id=MEDIATOR)
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    body = {"facts": "被申请人装修期间夜间施工，噪声影响申请人休息。", "terms": terms or [
        {"party_id": respondent_of(d)["id"], "obligation": "向申请人赔偿误工损失", "amount": "800.00", "due_at": due},
        {"party_id": respondent_of(d)["id"], "obligation": "当面赔礼道歉"}]}
    assert client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=auth(rt, MEDIATOR)).status_code == 200
    for who in (RESIDENT, RESIDENT_2):
        r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, who, "resident"))
        assert r.status_code == 200, r.text
    return d


def test_the_agreement_takes_effect_only_when_the_mediator_signed_and_the_committee_sealed(client, rt):
    d = _drafted_and_signed_by_the_parties(client, rt)
    agreement = client.get(f"{BASE}/{d['id']}/agreement", headers=auth(rt, MEDIATOR)).json()
    # Every party signed: not in force yet, the mediation goes on.
    assert agreement["status"] == "parties_signed" and agreement["effective_at"] is None
    assert events(rt, "mediation.agreement.signed") == [] and events(rt, "mediation.case.succeeded") == []
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).json()["status"] == "accepted"
    html = client.get(f"{BASE}/{d['id']}/agreement/document", headers=auth(rt, MEDIATOR)).text
    assert "尚未生效" in html and "待盖章" in html

    # No seal before the mediator's signature; the committee's head is not the dispute's mediator.
    r = client.post(f"{BASE}/{d['id']}/agreement/seal", headers=auth(rt, CHAIR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "agreement.mediator_signature_missing"
    r = client.post(f"{BASE}/{d['id']}/agreement/mediator-signature", headers=auth(rt, CHAIR))
    assert r.status_code == 403 and r.json()["error"]["code"] == "agreement.not_the_mediator"
    r = client.post(f"{BASE}/{d['id']}/agreement/mediator-signature", headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403
    r = client.post(f"{BASE}/{d['id']}/agreement/mediator-signature", headers=auth(rt, MEDIATOR))
    assert r.status_code == 200 and r.json()["status"] == "mediator_signed"
    assert r.json()["mediator_signature"]["by"] == MEDIATOR and r.json()["mediator_signature"]["at"]
    r = client.post(f"{BASE}/{d['id']}/agreement/mediator-signature", headers=auth(rt, MEDIATOR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "agreement.mediator_signed"
    assert events(rt, "mediation.agreement.signed") == []
    r = client.post(f"{BASE}/{d['id']}/agreement/seal", headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 403  # a party does not seal

    # The committee's head records the seal (who, when): now it is in force.
    r = client.post(f"{BASE}/{d['id']}/agreement/seal", headers=auth(rt, CHAIR))
    assert r.status_code == 200, r.text
    sealed = r.json()
    assert sealed["status"] == "effective" and sealed["seal"]["by"] == CHAIR and sealed["seal"]["at"]
    assert sealed["effective_at"] == sealed["seal"]["at"] and sealed["performed_at"] is None
    signed = events(rt, "mediation.agreement.signed")
    assert len(signed) == 1
    data = signed[0]["data"]
    assert data["sealed_by"] == CHAIR and data["mediator_ids"] == [MEDIATOR] and data["effective_at"]
    assert (datetime.fromisoformat(data["court_confirmation_deadline"])
            - datetime.fromisoformat(data["effective_at"])).days == 30
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).json()["status"] == "succeeded"
    html = client.get(f"{BASE}/{d['id']}/agreement/document", headers=auth(rt, MEDIATOR)).text
    assert "尚未生效" not in html and "已盖章" in html and "生效日期" in html
    r = client.post(f"{BASE}/{d['id']}/agreement/seal", headers=auth(rt, CHAIR))
    assert r.status_code == 409


def test_a_change_of_the_text_after_the_mediator_signed_asks_for_every_signature_again(client, rt):
    d = _drafted_and_signed_by_the_parties(client, rt)
    assert client.post(f"{BASE}/{d['id']}/agreement/mediator-signature", headers=auth(rt, MEDIATOR)).status_code == 200
    body = {"facts": "装修噪声纠纷（修改）",
            "terms": [{"party_id": respondent_of(d)["id"], "obligation": "夜间停止施工"}]}
    r = client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=auth(rt, MEDIATOR))
    assert r.json()["status"] == "draft" and r.json()["mediator_signature"] is None
    assert r.json()["confirmed_party_ids"] == []
    r = client.post(f"{BASE}/{d['id']}/agreement/mediator-signature", headers=auth(rt, MEDIATOR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "agreement.parties_pending"


def test_signing_is_not_performance_which_is_recorded_at_follow_up(client, rt):
    d = _drafted_and_signed_by_the_parties(client, rt)
    sign_and_seal(client, rt, d, MEDIATOR)
    kinds = [e["type"] for e in events(rt) if e["data"]["dispute_id"] == d["id"]]
    assert kinds[-2:] == ["mediation.agreement.signed", "mediation.case.succeeded"]
    assert events(rt, "mediation.agreement.performed") == []  # in force is not performed
    assert events(rt, "mediation.case.succeeded")[0]["data"]["effective_at"]
    mediator = auth(rt, MEDIATOR)
    follow = [f for f in client.get(f"{BASE}/{d['id']}/followups", headers=mediator).json()
              if f["kind"] == "performance"]
    assert len(follow) == 2 and all(f["term_id"] for f in follow)  # each term, dated or not
    paid, apology = follow if follow[0]["due_at"] > follow[1]["due_at"] else follow[::-1]
    # The apology is made; the money only in part: followed up again (督促履行), not performed yet.
    client.post(f"{BASE}/{d['id']}/followups/{apology['id']}", json={"result": "performed"}, headers=mediator)
    r = client.post(f"{BASE}/{d['id']}/followups/{paid['id']}", json={"result": "partly", "note": "已付 500 元"},
                    headers=mediator)
    assert r.status_code == 200
    assert events(rt, "mediation.agreement.performed") == []
    again = [f for f in client.get(f"{BASE}/{d['id']}/followups", headers=mediator).json()
             if f["kind"] == "performance" and f["done_at"] is None]
    assert [f["term_id"] for f in again] == [paid["term_id"]]
    assert client.get(f"{BASE}/{d['id']}/agreement", headers=mediator).json()["performed_at"] is None
    r = client.post(f"{BASE}/{d['id']}/followups/{again[0]['id']}", json={"result": "performed"}, headers=mediator)
    assert r.status_code == 200
    performed = events(rt, "mediation.agreement.performed")
    assert len(performed) == 1
    data = performed[0]["data"]
    assert sorted(data["followup_ids"]) == sorted([apology["id"], again[0]["id"]])
    assert sorted(data["party_user_ids"]) == [RESIDENT, RESIDENT_2]
    assert client.get(f"{BASE}/{d['id']}/agreement", headers=mediator).json()["performed_at"]
    seqs = [e["data"]["seq"] for e in events(rt) if e["data"]["dispute_id"] == d["id"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_the_court_confirmation_reminder_goes_to_the_parties_and_says_what_it_is(client, rt):
    d = _drafted_and_signed_by_the_parties(client, rt)
    effective = sign_and_seal(client, rt, d, MEDIATOR)
    deadline = datetime.fromisoformat(effective["court_confirmation_deadline"])
    assert "三十日内" in effective["court_confirmation_notice"]
    assert clocks.scan(rt, now=deadline - timedelta(days=8)) == 2  # the two performance follow-ups, not it
    assert clocks.scan(rt, now=deadline - timedelta(days=7)) == 1
    reminder = [e["data"] for e in events(rt, "mediation.followup.due") if e["data"]["kind"] == "court_confirmation"]
    assert len(reminder) == 1
    data = reminder[0]
    assert sorted(data["party_user_ids"]) == [RESIDENT, RESIDENT_2]  # the parties apply, jointly
    assert data["legal_basis"] == "人民调解法第三十三条"
    assert datetime.fromisoformat(data["court_confirmation_deadline"]) == deadline
    assert datetime.fromisoformat(data["effective_at"]) == datetime.fromisoformat(effective["effective_at"])
    # A party reading her follow-ups sees what the reminder is about.
    mine = client.get(f"{BASE}/{d['id']}/followups", headers=auth(rt, RESIDENT_2, "resident")).json()
    court = next(f for f in mine if f["kind"] == "court_confirmation")
    assert court["legal_basis"] == "人民调解法第三十三条"
    for text in ("第三十三条", "调解协议生效之日起三十日内", "共同", "基层人民法院", "司法确认", "强制执行"):
        assert text in court["notice"], text


def test_refusal_and_failure_routes_are_the_ones_of_article_26_not_petitions(client, rt):
    law = {"仲裁", "行政", "司法"}
    refused = apply(client, rt, respondent_user=RESIDENT_2)
    r = client.post(f"{BASE}/{refused['id']}/consent", json={"consent": False},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert set(r.json()["routes"]) == law and "信访" not in r.json()["routes_notice"]
    assert "仲裁、行政、司法等途径" in r.json()["routes_notice"]
    assert set(events(rt, "mediation.case.refused")[0]["data"]["routes"]) == law

    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/terminate", json={"reason": "双方分歧过大", "routes": ["信访"]},
                    headers=auth(rt, MEDIATOR))
    assert r.status_code == 422 and r.json()["error"]["field"].startswith("routes")
    r = client.post(f"{BASE}/{d['id']}/terminate", json={"reason": "双方分歧过大"}, headers=auth(rt, MEDIATOR))
    assert r.status_code == 200 and set(r.json()["routes"]) == law
    assert "第二十六条" in r.json()["routes_notice"]
    assert set(events(rt, "mediation.case.failed")[-1]["data"]["routes"]) == law


def test_the_committee_head_is_told_of_a_new_application(client, rt):
    d = apply(client, rt)
    data = events(rt, "mediation.case.applied")[-1]["data"]
    assert data["dispute_id"] == d["id"] and data["committee_head_id"] == CHAIR
    # A referred case too.
    referred = CaseReferred(case_id=str(uuid.uuid4()), case_no="YL-20260101-0003", category="dispute.neighbour",
                            dispute_type="neighbour", reporter_id=RESIDENT, at=datetime.now(UTC),
                            lat=GRID_1["lat"], lon=GRID_1["lon"])  # an event's point is WGS-84 always
    SPEC.dispatcher(rt).handle(envelope_for(referred).to_bytes())
    assert events(rt, "mediation.case.applied")[-1]["data"]["committee_head_id"] == CHAIR
    # Not the head who entered a walk-in application herself.
    r = client.post(BASE, headers=auth(rt, CHAIR), json={
        "dispute_type": "neighbour", "matter": "楼上漏水到我家天花板，物业不管。", **GRID_1,
        "parties": [{"role": "applicant", "name": "赵大爷", "phone": "13700000001"},
                    {"role": "respondent", "name": "钱某", "phone": "13700000002"}]})
    assert r.status_code == 201, r.text
    assert events(rt, "mediation.case.applied")[-1]["data"]["committee_head_id"] is None
    assert applicant_of(r.json())["consent"] == "pending"


def test_the_court_confirmation_reminder_has_no_performance_result_to_record(client, rt):
    d = _drafted_and_signed_by_the_parties(client, rt)
    sign_and_seal(client, rt, d, MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    court = next(f for f in client.get(f"{BASE}/{d['id']}/followups", headers=mediator).json()
                 if f["kind"] == "court_confirmation")
    r = client.post(f"{BASE}/{d['id']}/followups/{court['id']}", json={"result": "performed"}, headers=mediator)
    assert r.status_code == 409 and r.json()["error"]["code"] == "followup.not_performance", r.text
    court = next(f for f in client.get(f"{BASE}/{d['id']}/followups", headers=mediator).json()
                 if f["kind"] == "court_confirmation")
    assert court["result"] is None and court["done_at"] is None
