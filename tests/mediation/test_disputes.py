"""Application, consent and refusal, acceptance, assignment with 回避, withdrawal, termination."""

from .conftest import auth, events
from .helpers import CHAIR, MEDIATOR, RESIDENT, RESIDENT_2, accepted, apply, respondent_of, verify_in_person

BASE = "/mediation/v1/disputes"


def test_an_express_refusal_ends_the_dispute_as_not_accepted_with_routes(client, rt):
    d = apply(client, rt, respondent_user=RESIDENT_2)
    assert d["status"] == "applied"
    applicant = next(p for p in d["parties"] if p["role"] == "applicant")
    assert applicant["user_id"] == RESIDENT and applicant["consent"] == "given"  # applying is consenting
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": False, "reason": "不愿意调解，要去法院"},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "refused" and view["status_label"] == "当事人拒绝调解，不予受理"
    assert set(view["routes"]) == {"仲裁", "行政", "司法"}
    refused = events(rt, "mediation.case.refused")
    assert len(refused) == 1 and refused[0]["data"]["refused_by_party_id"] == respondent_of(d)["id"]
    assert sorted(refused[0]["data"]["party_user_ids"]) == [RESIDENT, RESIDENT_2]
    # It is over: nobody can accept it, nor consent afterwards.
    r = client.post(f"{BASE}/{d['id']}/accept", headers=auth(rt, CHAIR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "dispute.closed"
    assert [e["type"] for e in events(rt)] == ["mediation.case.applied", "mediation.case.refused"]


def test_acceptance_needs_a_respondent_and_every_consent_then_starts_the_clock_and_assigns(client, rt):
    d = apply(client, rt, requested_mediator_id=MEDIATOR)
    chair = auth(rt, CHAIR)
    r = client.post(f"{BASE}/{d['id']}/accept", headers=chair)
    assert r.status_code == 409 and r.json()["error"]["code"] == "dispute.consent_missing"
    assert client.post(f"{BASE}/{d['id']}/accept", headers={**chair, "Accept-Language": "en"}).json()[
        "error"]["message"] == "Not every party has consented yet"
    verify_in_person(client, rt, d, respondent_of(d), chair)
    client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": respondent_of(d)["id"]},
                headers=chair)
    r = client.post(f"{BASE}/{d['id']}/accept", headers=chair)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "accepted"
    assert [m["id"] for m in view["mediators"]] == [MEDIATOR] and view["mediators"][0]["by_choice"]
    evs = events(rt)
    assert [e["type"] for e in evs] == ["mediation.case.applied", "mediation.case.accepted", "mediation.case.assigned"]
    assert [e["data"]["seq"] for e in evs] == [1, 2, 3]
    acc = evs[1]["data"]
    from datetime import datetime
    days = (datetime.fromisoformat(acc["deadline"]) - datetime.fromisoformat(acc["at"])).days
    assert days == 30  # one month by default (data/procedure.json)


def test_automatic_assignment_goes_by_type_area_and_load(client, rt):
    first = accepted(client, rt)  # a neighbour dispute in 玉林北路: the committee's neighbour experts
    second = accepted(client, rt)
    got = {first["mediators"][0]["id"], second["mediators"][0]["id"]}
    assert got == {"u-med-wulao-001", MEDIATOR}  # the second goes to the one with less load
    prop = accepted(client, rt, dispute_type="property")  # 物业: the specialised committee
    assert prop["committee_name"] == "玉林街道物业纠纷人民调解委员会"
    assert prop["mediators"][0]["id"] in {"u-med-wy-001", "u-med-wy-002"}


def test_a_party_objecting_to_the_assigned_mediator_gets_another_and_the_objected_one_cannot_return(client, rt):
    d = accepted(client, rt, respondent_user=RESIDENT_2, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/objections", json={"mediator_id": MEDIATOR, "reason": "与对方是亲戚"},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200, r.text
    assert r.json()["replaced"] and MEDIATOR not in r.json()["mediator_ids"]
    r = client.post(f"{BASE}/{d['id']}/assign", json={"mediator_id": MEDIATOR}, headers=auth(rt, CHAIR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "mediator.objected"
    # The replaced mediator no longer sees the record.
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).status_code == 404
    assigned = events(rt, "mediation.case.assigned")
    assert assigned[-1]["data"]["mediator_ids"] != [MEDIATOR]


def test_only_the_applicant_withdraws_and_termination_tells_the_routes(client, rt):
    d = accepted(client, rt, respondent_user=RESIDENT_2)
    r = client.post(f"{BASE}/{d['id']}/withdraw", headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "dispute.not_applicant"
    r = client.post(f"{BASE}/{d['id']}/withdraw", headers=auth(rt, RESIDENT, "resident"))
    assert r.json()["status"] == "withdrawn"
    failed = events(rt, "mediation.case.failed")
    assert failed[-1]["data"]["reason"] == "withdrawn"

    labour = accepted(client, rt, dispute_type="labour")
    holder = labour["mediators"][0]["id"]
    r = client.post(f"{BASE}/{labour['id']}/terminate", json={"reason": "双方对欠薪数额分歧过大"},
                    headers=auth(rt, holder))
    assert r.status_code == 200 and r.json()["status"] == "failed"
    assert r.json()["routes"] == ["仲裁", "司法", "行政"]  # labour disputes: arbitration first
    data = events(rt, "mediation.case.failed")[-1]["data"]
    assert data["reason"] == "failed" and data["routes"] == ["仲裁", "司法", "行政"]


def test_bad_input_gets_a_stable_code_and_changes_nothing(client, rt):
    body = {"dispute_type": "neighbour", "matter": "楼上漏水到我家天花板", "parties": [
        {"role": "applicant", "name": "刘淑芬"}, {"role": "respondent", "name": "王某", "phone": "12345"}]}
    r = client.post(BASE, json=body, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "party.bad_phone"
    body["parties"][1]["phone"] = None
    r = client.post(BASE, json=body, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "party.contact_missing"
    r = client.post(BASE, json={**body, "dispute_type": "astrology"}, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "dispute_type"
    r = client.post(BASE, json={**body, "source": "committee"}, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "dispute.forbidden_source"
    assert events(rt) == []
    assert client.get(BASE, headers=auth(rt, RESIDENT, "resident")).json() == []


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
