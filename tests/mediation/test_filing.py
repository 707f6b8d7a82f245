"""Who may open a dispute, in whose name, for which committee (services/mediation/access.py, `filing`), and how
often (issue 11's security review, findings 2, 3, 5, 11 and 13):
- a resident applies only in her own name (her SMS-verified phone), to a committee that takes the dispute;
- only mediators and committee heads enter walk-in applications, for their own committee, and the applicant's
  consent waits until she is verified (in person, recorded, or by signing in with her verified phone);
- a mediator opens disputes (主动调解) only for her own committee;
- applications are counted per account and per address."""

import pytest
from fastapi.testclient import TestClient

from services.mediation.seed import committee_id
from services.mediation.service import SPEC
from shared.config import get_settings
from shared.migrate import upgrade

from .conftest import PHONES, auth, events
from .helpers import CHAIR, GRID_1, MEDIATOR, RESIDENT, RESIDENT_2, applicant_of, apply, respondent_of

BASE = "/mediation/v1/disputes"
NORTH, EAST = committee_id("TJW-510107001001"), committee_id("TJW-510107001002")  # 玉林北路, 玉林东路
PROPERTY, TRAFFIC = committee_id("TJW-WY"), committee_id("TJW-JT")
MATTER = "楼上住户夜间拖动家具、装修噪声，多次沟通无果。"
# Someone else's identity: 陈大海's phone and ID number (the reviewer's reproduction).
OTHER = {"role": "applicant", "name": "陈大海", "phone": "13912340002", "id_number": "510107197603154212"}
RESPONDENT = {"role": "respondent", "name": "杨某", "phone": "13912340003"}


def _body(parties, **extra) -> dict:
    return {"dispute_type": "neighbour", "matter": MATTER, **GRID_1, "parties": parties, **extra}


def _walk_in(**extra) -> dict:
    """An application entered for a resident in front of the committee (a walk-in): the applicant, her phone."""
    return _body([{"role": "applicant", "name": "杨晓燕", "phone": PHONES[RESIDENT_2]},
                  {"role": "respondent", "name": "陈大海", "phone": "13912340002"}], **extra)


# ---- finding 2: a resident applies only in her own name ------------------------------------------------

def test_a_resident_cannot_apply_in_someone_elses_name(client, rt):
    r = client.post(BASE, json=_body([OTHER, RESPONDENT]), headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("party.not_own_phone", "parties.0.phone")
    assert events(rt) == []
    # The one whose phone it is finds nothing in her name.
    owner = auth(rt, "u-resident-9", "resident", phone=OTHER["phone"])
    assert client.get(BASE, headers=owner).json() == []


def test_a_residents_own_application_is_verified_by_her_account_and_is_her_consent(client, rt):
    for applicant in ({"role": "applicant", "name": "刘淑芬", "phone": PHONES[RESIDENT]},
                      {"role": "applicant", "name": "刘淑芬"}):  # no phone: the one she verified is hers
        r = client.post(BASE, json=_body([applicant, RESPONDENT]), headers=auth(rt, RESIDENT, "resident"))
        assert r.status_code == 201, r.text
        me = applicant_of(r.json())
        assert (me["user_id"], me["verification_method"], me["consent"]) == (RESIDENT, "account", "given")
    # Naming herself with her own phone as the other side too is still refused (party.own_phone).
    r = client.post(BASE, json=_body([{"role": "applicant", "name": "刘淑芬"},
                                      {"role": "respondent", "name": "刘淑芬", "phone": PHONES[RESIDENT]}]),
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "party.own_phone"


def test_a_resident_without_a_verified_phone_cannot_apply_online(client, rt):
    r = client.post(BASE, json=_body([{"role": "applicant", "name": "刘淑芬"}, RESPONDENT]),
                    headers=auth(rt, RESIDENT, "resident", phone=""))
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("party.phone_unverified", "parties.0.phone")
    assert events(rt) == []


# ---- finding 3: walk-in applications, by mediators and committee heads only --------------------------

@pytest.mark.parametrize("user,role", [("u-grid-worker-002001", "grid_worker"),
                                       ("u-department-handler-900002", "department_handler"),
                                       ("u-operator-2", "operator"), ("u-community-staff-001", "community_staff"),
                                       ("u-supervisor-2", "supervisor"), ("u-admin-1", "admin")])
def test_staff_outside_the_committees_cannot_enter_an_application(client, rt, user, role):
    r = client.post(BASE, json=_walk_in(), headers=auth(rt, user, role))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "dispute.not_committee_staff"
    assert events(rt) == []
    # Nor does anybody named in it see anything.
    assert client.get(BASE, headers=auth(rt, RESIDENT_2, "resident")).json() == []


def test_a_mediator_enters_a_walk_in_for_her_committee_and_holds_it(client, rt):
    r = client.post(BASE, json=_walk_in(), headers=auth(rt, MEDIATOR))
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["committee_id"] == NORTH and d["source"] == "application"
    assert d["viewer_capacity"] == "mediator" and [m["id"] for m in d["mediators"]] == [MEDIATOR]
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).status_code == 200  # not a 404
    # Entering it is not the applicant's consent, nor her identity.
    a = applicant_of(d)
    assert (a["user_id"], a["verification_method"], a["consent"]) == (None, None, "pending")
    # A committee's head who is no mediator enters one for a committee she heads (the property committee).
    r = client.post(BASE, json=_walk_in(dispute_type="property"), headers=auth(rt, "u-supervisor-1", "supervisor"))
    assert r.status_code == 201, r.text
    assert (r.json()["committee_id"], r.json()["viewer_capacity"]) == (PROPERTY, "supervisor")


def test_a_walk_in_applicants_consent_waits_until_she_is_verified(client, rt):
    d = client.post(BASE, json=_walk_in(), headers=auth(rt, MEDIATOR)).json()
    mediator = auth(rt, MEDIATOR)
    applicant = applicant_of(d)["id"]
    # Nobody answers for her before she is identified: not even the mediator who entered it.
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": applicant},
                    headers=mediator)
    assert r.status_code == 409 and r.json()["error"] == {**r.json()["error"], "code": "party.not_verified",
                                                          "field": "party_id"}
    assert applicant_of(client.get(f"{BASE}/{d['id']}", headers=mediator).json())["consent"] == "pending"
    # Signing in with the phone she verified by SMS, she is the applicant and consents herself.
    her = auth(rt, RESIDENT_2, "resident")
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, headers=her)
    assert r.status_code == 200, r.text
    a = applicant_of(r.json())
    assert (a["user_id"], a["verification_method"], a["consent"]) == (RESIDENT_2, "phone", "given")
    # Or verified in person by the mediator (recorded), after which the mediator records the respondent's answer.
    respondent = respondent_of(d)["id"]
    path = f"{BASE}/{d['id']}/parties/{respondent}/verification"
    assert client.post(path, json={"method": "id_card"}, headers=mediator).status_code == 200
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": respondent},
                    headers=mediator)
    assert r.status_code == 200 and respondent_of(r.json())["consent"] == "given"


def test_an_answer_recorded_in_person_needs_the_party_verified_first(client, rt):
    d = apply(client, rt)  # a resident's application: the respondent named by her, not yet identified
    chair = auth(rt, CHAIR)
    respondent = respondent_of(d)["id"]
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": respondent},
                    headers=chair)
    assert r.status_code == 409 and r.json()["error"]["code"] == "party.not_verified"
    assert client.post(f"{BASE}/{d['id']}/accept", headers=chair).json()["error"]["code"] == "dispute.consent_missing"
    r = client.post(f"{BASE}/{d['id']}/parties/{respondent}/verification", json={"method": "id_card"}, headers=chair)
    assert r.status_code == 200, r.text
    r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": respondent},
                    headers=chair)
    assert r.status_code == 200 and respondent_of(r.json())["consent"] == "given"


# ---- finding 5: a mediator's disputes go to her own committee --------------------------------------

def test_a_mediator_opens_disputes_only_for_her_own_committee(client, rt):
    east_head = auth(rt, "u-med-chair-002")  # 玉林东路's head
    own = {"role": "applicant", "name": "某甲", "phone": "13912349999"}
    for body in (_body([own], source="committee", committee_id=NORTH), _walk_in(committee_id=NORTH)):
        r = client.post(BASE, json=body, headers=east_head)
        assert r.status_code == 422, r.text
        assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("committee.not_yours", "committee_id")
    assert events(rt) == []
    # Her own committee's, named or not (the place is in 玉林北路: hers all the same).
    for body in (_body([own], source="committee", committee_id=EAST), _body([own], source="committee"),
                 _walk_in()):
        r = client.post(BASE, json=body, headers=east_head)
        assert r.status_code == 201, r.text
        assert r.json()["committee_id"] == EAST and r.json()["viewer_capacity"] == "mediator"


# ---- finding 13: a resident applies to a committee that takes the dispute ----------------------------

def test_a_resident_applies_only_to_a_committee_that_takes_the_dispute(client, rt):
    me = auth(rt, RESIDENT, "resident")
    mine = {"role": "applicant", "name": "刘淑芬"}
    # Not 玉林东路's committee (and its mediator) for a dispute in 玉林北路, nor the property committee for it.
    for extra in ({"committee_id": EAST, "requested_mediator_id": "u-med-chair-002"}, {"committee_id": EAST},
                  {"committee_id": PROPERTY}):
        r = client.post(BASE, json=_body([mine, RESPONDENT], **extra), headers=me)
        assert r.status_code == 422, (extra, r.text)
        assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("committee.not_competent", "committee_id")
    assert events(rt) == []
    # The committee of the place, a specialised one taking the type, or the one it is routed to unasked.
    for dispute_type, extra, expected in [("neighbour", {"committee_id": NORTH}, NORTH), ("neighbour", {}, NORTH),
                                          ("damages", {"committee_id": TRAFFIC}, TRAFFIC),
                                          ("property", {"committee_id": NORTH}, NORTH), ("property", {}, PROPERTY)]:
        r = client.post(BASE, json=_body([mine, RESPONDENT], dispute_type=dispute_type, **extra), headers=me)
        assert r.status_code == 201, r.text
        assert r.json()["committee_id"] == expected, (dispute_type, extra)


# ---- finding 11: applications limited per account and per address ----------------------------------

def test_dispute_applications_are_rate_limited_per_address_as_well_as_per_account(tmp_path):
    settings = get_settings(mode="embedded", var_dir=tmp_path, rate_limits={"dispute.apply.address": "3/hour"})
    upgrade("mediation", settings.database_url("mediation"))
    rt = SPEC.runtime(settings)
    try:
        SPEC.seed(rt)
        app = SPEC.app(rt)
        here, elsewhere = TestClient(app, client=("203.0.113.7", 50000)), TestClient(app, client=("198.51.100.2", 1))
        mine = {"role": "applicant", "name": "某人"}
        for n in range(3):  # three accounts, one application each: each well under her own 10 a day
            user = f"u-resident-x{n}"
            r = here.post(BASE, json=_body([mine, RESPONDENT]),
                          headers=auth(rt, user, "resident", phone=f"1370000100{n}"))
            assert r.status_code == 201, r.text
        r = here.post(BASE, json=_body([mine, RESPONDENT]), headers=auth(rt, "u-resident-x3", "resident",
                                                                         phone="13700001003"))
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate.limited"
        assert int(r.headers["Retry-After"]) > 0
        # The same account from another address is let through: the address was counted, not the account.
        r = elsewhere.post(BASE, json=_body([mine, RESPONDENT]), headers=auth(rt, "u-resident-x3", "resident",
                                                                              phone="13700001003"))
        assert r.status_code == 201, r.text
    finally:
        rt.dispose()


def test_an_application_retried_with_its_idempotency_key_files_one_dispute(client, rt):
    """A double-tapped "submit": the retry gets the first answer and nobody is told twice; the key with another
    body is a conflict, as intake's POST /cases answers."""
    me = {**auth(rt, RESIDENT, "resident"), "Idempotency-Key": "k1"}
    body = _body([{"role": "applicant", "name": "刘淑芬", "phone": PHONES[RESIDENT]}, RESPONDENT])
    first = client.post(BASE, json=body, headers=me)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers, first.text
    again = client.post(BASE, json=body, headers=me)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true", again.text
    assert again.json() == first.json()
    other = client.post(BASE, json={**body, "claims": "赔礼道歉"}, headers=me)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency.key_reused", other.text
    mine = client.get(BASE, headers=auth(rt, RESIDENT, "resident")).json()
    assert [d["id"] for d in mine] == [first.json()["id"]]
    assert len(events(rt, "mediation.case.applied")) == 1
    # Another key is another application.
    r = client.post(BASE, json=body, headers={**me, "Idempotency-Key": "k2"})
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]
