"""Issue 11, "mediation consent can be forged": a party is identified by her SMS-verified phone or in person by
a mediator, never by an account id somebody else typed; answers come from her own account or are recorded in
person; a resident chooses a mediator only of the committee that takes the dispute."""

from .conftest import PHONES, auth, events
from .helpers import (
    CHAIR,
    MEDIATOR,
    RESIDENT,
    RESIDENT_2,
    STRANGER,
    apply,
    audit_rows,
    respondent_of,
    verify_in_person,
)

BASE = "/mediation/v1/disputes"
BODY = {"dispute_type": "neighbour", "matter": "楼上住户夜间拖动家具、装修噪声，多次沟通无果。", "lat": 30.6283,
        "lon": 104.052115, "coord_system": "wgs84"}


def _apply(client, rt, parties, user=RESIDENT, **extra):
    return client.post(BASE, json={**BODY, "parties": parties, **extra}, headers=auth(rt, user, "resident"))


def test_a_resident_can_no_longer_name_another_partys_account(client, rt):
    r = _apply(client, rt, [{"role": "applicant", "name": "刘淑芬"},
                            {"role": "respondent", "name": "陈建国", "phone": "13900002222", "user_id": RESIDENT_2}])
    assert r.status_code == 422 and r.json()["error"]["field"] == "parties.1.user_id"
    # Nor herself as the other side: her own verified phone as the respondent's.
    r = _apply(client, rt, [{"role": "applicant", "name": "刘淑芬"},
                            {"role": "respondent", "name": "刘淑芬", "phone": PHONES[RESIDENT]}])
    assert r.status_code == 422 and r.json()["error"] == {**r.json()["error"], "code": "party.own_phone",
                                                          "field": "parties.1.phone"}
    # Nor two parties with one phone.
    r = _apply(client, rt, [{"role": "applicant", "name": "刘淑芬"},
                            {"role": "respondent", "name": "陈建国", "phone": "13900002222"},
                            {"role": "respondent", "name": "陈建军", "phone": "13900002222"}])
    assert r.status_code == 422 and r.json()["error"]["code"] == "party.duplicate_phone"
    assert events(rt) == []


def test_the_respondent_is_the_resident_who_verified_her_phone_when_she_signs_in(client, rt):
    d = apply(client, rt, respondent_user=RESIDENT_2)
    assert respondent_of(d)["user_id"] is None and respondent_of(d)["verification_method"] is None
    assert events(rt, "mediation.case.applied")[0]["data"]["party_user_ids"] == [RESIDENT]  # nobody else told
    # The applicant cannot answer for her: she is not a party the applicant may act for.
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": respondent_of(d)["id"]},
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "dispute.not_party"
    # Another resident, or one whose phone was never verified (no pix in the token), does not see it.
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, STRANGER, "resident")).status_code == 404
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT_2, "resident", phone="")).status_code == 404
    assert client.get(BASE, headers=auth(rt, RESIDENT_2, "resident", phone="")).json() == []
    # Signed in with her verified phone, her list shows it: she is linked, and says so herself.
    mine = client.get(BASE, headers=auth(rt, RESIDENT_2, "resident")).json()
    assert [x["id"] for x in mine] == [d["id"]]
    view = client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT_2, "resident")).json()
    me = respondent_of(view)
    assert view["viewer_capacity"] == "party" and me["user_id"] == RESIDENT_2
    assert me["verification_method"] == "phone" and me["verified_at"]
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200 and respondent_of(r.json())["consent"] == "given"
    assert audit_rows(rt, d["id"], "party.linked") == [(RESIDENT_2, None, None)]


def test_a_landline_is_never_matched_and_a_mediator_verifies_such_a_party_in_person(client, rt):
    r = _apply(client, rt, [{"role": "applicant", "name": "刘淑芬"},
                            {"role": "respondent", "name": "陈建国", "phone": "028-85551234"}],
               requested_mediator_id=MEDIATOR)
    assert r.status_code == 201, r.text
    d = r.json()
    party = respondent_of(d)["id"]
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT_2, "resident")).status_code == 404
    path = f"{BASE}/{d['id']}/parties/{party}/verification"
    body = {"method": "id_card", "user_id": RESIDENT_2}
    # Only a mediator of the dispute (or the committee's head) records it.
    assert client.post(path, json=body, headers=auth(rt, RESIDENT, "resident")).status_code == 403
    assert client.post(path, json=body, headers=auth(rt, "u-med-chair-002")).status_code == 404
    assert client.post(path, json={**body, "user_id": RESIDENT}, headers=auth(rt, CHAIR)).status_code == 409
    r = client.post(path, json=body, headers=auth(rt, CHAIR))
    assert r.status_code == 200, r.text
    assert (r.json()["user_id"], r.json()["verification_method"]) == (RESIDENT_2, "id_card")
    assert audit_rows(rt, d["id"], "party.verified") == [(CHAIR, None, None)]
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, headers=auth(rt, RESIDENT_2, "resident"))
    assert r.status_code == 200, r.text
    # Linked once: another account for the same party is refused.
    r = client.post(path, json={**body, "user_id": STRANGER}, headers=auth(rt, CHAIR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "party.linked_elsewhere"


def test_answers_recorded_in_person_stay_with_the_mediators(client, rt):
    d = apply(client, rt, respondent_user=RESIDENT_2)
    party = respondent_of(d)["id"]
    for user, role in [("u-med-chair-002", "mediator"), (STRANGER, "resident"), ("u-operator-1", "operator")]:
        r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": party},
                        headers=auth(rt, user, role))
        assert r.status_code == 404, (user, r.text)
    verify_in_person(client, rt, d, respondent_of(d), auth(rt, CHAIR))
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": party},
                    headers=auth(rt, CHAIR))
    assert r.status_code == 200 and respondent_of(r.json())["consent"] == "given"


def test_a_resident_chooses_a_mediator_only_of_the_committee_that_takes_the_dispute(client, rt):
    parties = [{"role": "applicant", "name": "刘淑芬"}, {"role": "respondent", "name": "王某", "phone": "13900003333"}]
    for other in ("u-med-chair-002", "u-med-wy-001"):  # 玉林东路's mediator; the property committee's
        r = _apply(client, rt, parties, requested_mediator_id=other)
        assert r.status_code == 422 and r.json()["error"]["code"] == "mediator.other_committee"
        assert r.json()["error"]["field"] == "requested_mediator_id"
    assert events(rt) == []
    r = _apply(client, rt, parties, requested_mediator_id=MEDIATOR)
    assert r.status_code == 201
    # Nor does the committee's head hand the record to another committee's mediator.
    r = client.post(f"{BASE}/{r.json()['id']}/assign", json={"mediator_id": "u-med-chair-002"},
                    headers=auth(rt, CHAIR))
    assert r.status_code == 422 and r.json()["error"]["code"] == "mediator.other_committee"


def test_dispute_applications_are_rate_limited_per_resident(client, rt):
    parties = [{"role": "applicant", "name": "刘淑芬"}, {"role": "respondent", "name": "王某", "phone": "13900003333"}]
    for _ in range(10):
        assert _apply(client, rt, parties).status_code == 201
    r = _apply(client, rt, parties)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate.limited"
    assert int(r.headers["Retry-After"]) > 0
    assert _apply(client, rt, parties, user=RESIDENT_2).status_code == 201  # another resident's own count
