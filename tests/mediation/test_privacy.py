"""Records are visible only to the parties, the assigned mediators and the committee's head; every read audited."""

import json
from datetime import UTC, datetime, timedelta

from .conftest import auth
from .helpers import (
    CHAIR,
    MEDIATOR,
    RESIDENT,
    RESIDENT_2,
    STRANGER,
    accepted,
    audit_rows,
    respondent_of,
    sign_and_seal,
    started,
)

BASE = "/mediation/v1/disputes"


def test_a_non_party_cannot_read_the_record_and_cannot_tell_it_exists(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    missing = client.get(f"{BASE}/00000000-0000-0000-0000-000000000000", headers=auth(rt, STRANGER, "resident"))
    for user, role in [(STRANGER, "resident"), ("u-med-wulao-001", "mediator"), ("u-med-chair-002", "mediator"),
                       ("u-operator-1", "operator"), ("u-grid-worker-001001", "grid_worker")]:
        for path in ("", "/sessions", "/agreement", "/agreement/document", "/followups"):
            r = client.get(f"{BASE}/{d['id']}{path}", headers=auth(rt, user, role))
            assert r.status_code == 404, (user, path)
            assert r.json() == missing.json()  # the same answer as for a dispute that does not exist
        assert d["id"] not in [x["id"] for x in client.get(BASE, headers=auth(rt, user, role)).json()]
    for user, role in [(RESIDENT, "resident"), (MEDIATOR, "mediator"), (CHAIR, "mediator")]:
        assert client.get(f"{BASE}/{d['id']}", headers=auth(rt, user, role)).status_code == 200


def test_contact_details_are_masked_for_everyone_but_the_mediators(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR, respondent_user=RESIDENT_2)
    as_party = client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT, "resident")).json()
    assert as_party["viewer_capacity"] == "party"
    assert respondent_of(as_party)["phone"] == "139****1111"
    assert respondent_of(as_party)["address"] == "玉林北路5号****"
    as_head = client.get(f"{BASE}/{d['id']}", headers=auth(rt, CHAIR)).json()
    assert as_head["viewer_capacity"] == "supervisor" and respondent_of(as_head)["phone"] == "139****1111"
    as_mediator = client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).json()
    assert respondent_of(as_mediator)["phone"] == "13900001111"
    assert respondent_of(as_mediator)["address"] == "玉林北路5号3单元502"


def test_every_read_and_every_refused_read_is_audited(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT, "resident"))
    client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR))
    client.get(f"{BASE}/{d['id']}", headers=auth(rt, STRANGER, "resident"))
    seen = audit_rows(rt, d["id"], "read.dispute")
    assert seen == [(RESIDENT, True, "party"), (MEDIATOR, True, "mediator"), (STRANGER, False, None)]
    log = client.get(f"{BASE}/{d['id']}/audit", headers=auth(rt, CHAIR)).json()
    assert {"user_id": STRANGER, "allowed": False} .items() <= log[-2].items()
    assert client.get(f"{BASE}/{d['id']}/audit", headers=auth(rt, MEDIATOR)).status_code == 403


def test_a_party_cannot_act_for_another_party(client, rt):
    d = accepted(client, rt, respondent_user=RESIDENT_2)
    other = respondent_of(d)["id"]
    r = client.post(f"{BASE}/{d['id']}/objections", json={"mediator_id": MEDIATOR, "party_id": other},
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "dispute.not_party"
    r = client.post(f"{BASE}/{d['id']}/terminate", json={"reason": "不想调了"}, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "dispute.not_mediator"


def test_a_read_that_passes_the_check_and_then_fails_is_still_audited(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.get(f"{BASE}/{d['id']}/agreement", headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "agreement.not_found"
    assert audit_rows(rt, d["id"], "read.agreement") == [(RESIDENT, True, "party")]
    r = client.get(f"{BASE}/{d['id']}/risk", headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 403
    assert audit_rows(rt, d["id"], "read.risk") == [(RESIDENT, True, "party")]


def test_the_audit_log_is_paged(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    for _ in range(3):
        client.get(f"{BASE}/{d['id']}", headers=auth(rt, RESIDENT, "resident"))
    page = client.get(f"{BASE}/{d['id']}/audit", params={"limit": 2}, headers=auth(rt, CHAIR)).json()
    assert len(page) == 2


def test_the_committee_head_terminating_sees_contact_details_masked(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/terminate", json={"reason": "双方分歧过大"}, headers=auth(rt, CHAIR))
    assert r.status_code == 200 and r.json()["viewer_capacity"] == "supervisor"
    assert respondent_of(r.json())["phone"] == "139****1111"


def test_phones_and_id_numbers_a_mediator_types_into_the_record_are_masked_for_the_parties_and_the_head(client, rt):
    """The agreement's facts and terms, the printable document, the 笔录 and follow-up notes: the same masking as
    the matter and the claims, for every reader but the assigned mediators."""
    phone, id_number = "13900002221", "510107198001011235"
    d = accepted(client, rt, requested_mediator_id=MEDIATOR, respondent_user=RESIDENT_2)
    mediator, chair, party = auth(rt, MEDIATOR), auth(rt, CHAIR), auth(rt, RESIDENT, "resident")
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    meeting = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": when, "place": "调解室"},
                          headers=mediator).json()
    started(rt, meeting["id"])
    r = client.post(f"{BASE}/{d['id']}/sessions/{meeting['id']}/record", headers=mediator,
                    json={"record": f"笔录：王建华电话{phone}，身份证{id_number}"})
    assert r.status_code == 200 and phone in r.json()["record"], r.text
    body = {"facts": f"双方经调解同意。联系电话{phone}，身份证{id_number}",
            "terms": [{"party_id": respondent_of(d)["id"], "obligation": f"晚上十点后停止施工，联系{phone}"}]}
    assert client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=mediator).status_code == 200
    for who in (party, auth(rt, RESIDENT_2, "resident")):
        assert client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=who).status_code == 200
    sign_and_seal(client, rt, d, MEDIATOR)
    performance = next(f for f in client.get(f"{BASE}/{d['id']}/followups", headers=mediator).json()
                       if f["kind"] == "performance")
    r = client.post(f"{BASE}/{d['id']}/followups/{performance['id']}", json={"result": "performed",
                                                                              "note": f"已履行 电话{phone}"},
                    headers=mediator)
    assert r.status_code == 200, r.text

    def shown(headers: dict) -> str:
        return json.dumps([client.get(f"{BASE}/{d['id']}{path}", headers=headers).json()
                           for path in ("/sessions", "/agreement", "/followups")], ensure_ascii=False) + \
            client.get(f"{BASE}/{d['id']}/agreement/document", headers=headers).text

    for reader in (party, chair):
        text = shown(reader)
        assert phone not in text and id_number not in text
        assert "139****2221" in text and "5101**********1235" in text
    text = shown(mediator)
    assert phone in text and id_number in text
