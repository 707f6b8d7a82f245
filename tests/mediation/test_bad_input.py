"""Out-of-range input is a 422 naming the field, never a 500 (issue 11's fuzzing found these); and the record's
audit is the service's one audit trail."""

from datetime import UTC, datetime, timedelta

from .conftest import auth
from .helpers import CHAIR, MEDIATOR, RESIDENT, STRANGER, accepted, apply, head, respondent_of, verify_in_person

BASE = "/mediation/v1/disputes"
HUGE = "9" * 20


def _field(r) -> str:
    assert r.status_code == 422, r.text
    return r.json()["error"]["field"]


def test_pages_and_ids_out_of_range(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    assert _field(client.get(BASE, params={"offset": HUGE}, headers=auth(rt, RESIDENT, "resident"))) == "offset"
    assert _field(client.get(f"{BASE}/{d['id']}/audit", params={"offset": HUGE}, headers=auth(rt, CHAIR))) == "offset"
    assert _field(client.post(f"{BASE}/{d['id']}/followups/{HUGE}", json={"result": "performed"},
                              headers=auth(rt, MEDIATOR))) == "followup_id"


def test_times_out_of_range(client, rt):
    supervisor = auth(rt, "u-supervisor-1", "supervisor")
    for name, value in (("to", "9999-12-31T23:59:59-14:00"), ("from", "0001-01-01T00:00:00+14:00")):
        assert _field(client.get("/mediation/v1/statistics", params={name: value}, headers=supervisor)) == name
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    for year in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": year, "place": "调解室"}, headers=mediator)
        assert _field(r) == "starts_at"
        r = client.put(f"{BASE}/{d['id']}/agreement", headers=mediator, json={
            "facts": "装修噪声纠纷", "terms": [{"party_id": respondent_of(d)["id"], "obligation": "夜间停止施工",
                                          "due_at": year}]})
        assert _field(r) == "terms.0.due_at"
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": when, "place": "调解室"},
                       headers=mediator).status_code == 201


def test_every_status_an_endpoint_answers_is_in_its_document(client, rt):
    doc = client.get("/mediation/openapi.json").json()
    op = doc["paths"]["/mediation/v1/disputes/{dispute_id}/consent"]["post"]
    assert {"401", "403", "404", "409", "413", "422", "503"} <= set(op["responses"])
    assert "429" in doc["paths"]["/mediation/v1/disputes"]["post"]["responses"]
    document = doc["paths"]["/mediation/v1/disputes/{dispute_id}/agreement/document"]["get"]["responses"]["200"]
    assert list(document["content"]) == ["text/html"]


def test_the_records_audit_is_the_services_audit_trail(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    client.get(f"{BASE}/{d['id']}", headers=auth(rt, STRANGER, "resident"))
    log = client.get(f"{BASE}/{d['id']}/audit", headers=auth(rt, CHAIR)).json()
    # The events of the dispute (who caused them) and the reads and acts, in one trail.
    assert [(e["action"], e["user_id"]) for e in log] == [
        ("mediation.case.applied", RESIDENT), ("create", RESIDENT), ("write.verification", CHAIR),
        ("party.verified", CHAIR), ("write.consent", CHAIR), ("write.accept", CHAIR),
        ("mediation.case.accepted", CHAIR), ("mediation.case.assigned", CHAIR), ("read.dispute", STRANGER),
        ("read.audit", CHAIR)]
    refused = next(e for e in log if e["user_id"] == STRANGER)
    assert (refused["action"], refused["allowed"], refused["role"]) == ("read.dispute", False, "resident")
    assert all(e["request_id"] for e in log if e["user_id"] not in (None, "system"))
    # The committee's head reads the same entries through the service's trail; the head of another
    # committee finds none of them, and a supervisor heading no committee reads none of the trail.
    def trail(user_id: str, role: str = "mediator"):
        return client.get("/mediation/v1/audit", params={"subject_id": d["id"]}, headers=auth(rt, user_id, role))

    assert {e["action"] for e in trail(CHAIR).json()["items"]} >= {"read.dispute", "mediation.case.accepted",
                                                                   "read.audit"}
    assert trail("u-med-chair-002").json()["items"] == []
    assert trail("u-supervisor-2", "supervisor").status_code == 403


def test_a_string_is_not_a_yes_or_no_so_a_0_neither_refuses_mediation_nor_a_10_extends_it(client, rt):
    """A refusal ends the dispute for good: only the JSON boolean false refuses, never "0", "no" or 0."""
    d = apply(client, rt)
    chair = head(rt, d)
    respondent = respondent_of(d)
    verify_in_person(client, rt, d, respondent, chair)
    for value in ("0", "no", 0, "yes"):
        r = client.post(f"{BASE}/{d['id']}/consent", json={"consent": value}, params={"party_id": respondent["id"]},
                        headers=chair)
        assert _field(r) == "consent" and r.json()["error"]["code"] == "validation.bad_type", value
    assert client.get(f"{BASE}/{d['id']}", headers=chair).json()["status"] == "applied"
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/extensions", json={"days": "10", "reason": "等待鉴定"},
                    headers=auth(rt, MEDIATOR))
    assert _field(r) == "days" and r.json()["error"]["code"] == "validation.bad_type"
    assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).json()["extensions"] == []


def test_an_online_link_must_be_a_full_https_address_with_a_host(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for link in ("https://a b<script>", "https://", "https://evil\n.com", "https://meeting", "http://meeting.qq.com/1",
                 "https://user:pw@meeting.qq.com/1", "https://meeting.qq.com:port/1", "https://meeting.qq.com\u3000/1"):
        r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": when, "online_link": link}, headers=mediator)
        assert _field(r) == "online_link" and r.json()["error"]["code"] == "session.bad_link", link
    assert client.get(f"{BASE}/{d['id']}/sessions", headers=mediator).json() == []
    link = "https://meeting.tencent.com/dm/AbC123?from=share"
    r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": when, "online_link": link}, headers=mediator)
    assert r.status_code == 201 and r.json()["online_link"] == link, r.text
