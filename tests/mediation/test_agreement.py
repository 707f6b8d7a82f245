"""The agreement: every party's confirmation (again after any change of its text), the signing, the document."""

import threading
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from services.mediation import access
from services.mediation import agreement as agreements
from services.mediation.models import Party
from services.mediation.service import SPEC
from shared.auth import User
from shared.config import get_settings
from shared.migrate import upgrade

from .conftest import auth, events
from .helpers import MEDIATOR, RESIDENT, RESIDENT_2, accepted, applicant_of, respondent_of, sign_and_seal

BASE = "/mediation/v1/disputes"


def test_an_agreement_needs_every_partys_confirmation_and_makes_a_document(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)  # the respondent has no account
    mediator = auth(rt, MEDIATOR)
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    body = {"facts": "被申请人装修期间夜间施工，噪声影响申请人休息。",
            "terms": [{"party_id": respondent_of(d)["id"], "obligation": "每日22时至次日8时不进行装修作业",
                       "due_at": due},
                      {"party_id": respondent_of(d)["id"], "obligation": "向申请人赔偿误工损失", "amount": "800.00",
                       "due_at": due},
                      {"party_id": applicant_of(d)["id"], "obligation": "收到赔偿后不再就此事主张权利"}]}
    r = client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=mediator)
    assert r.status_code == 200, r.text
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    assert r.json()["status"] == "draft" and r.json()["confirmed_party_ids"] == [applicant_of(d)["id"]]
    assert events(rt, "mediation.agreement.signed") == []
    assert client.get(f"{BASE}/{d['id']}", headers=mediator).json()["status"] == "accepted"
    # A rewrite of the draft needs everybody to confirm again.
    client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=mediator)
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={"party_id": respondent_of(d)["id"]},
                    headers=mediator)  # signed on paper in front of the mediator
    assert r.json()["status"] == "draft"
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    assert r.json()["status"] == "parties_signed"
    sign_and_seal(client, rt, d, MEDIATOR)
    kinds = [e["type"] for e in events(rt)]
    assert kinds[-2:] == ["mediation.agreement.signed", "mediation.case.succeeded"]
    signed = events(rt, "mediation.agreement.signed")[0]["data"]
    assert (datetime.fromisoformat(signed["court_confirmation_deadline"])
            - datetime.fromisoformat(signed["at"])).days == 30
    assert client.get(f"{BASE}/{d['id']}", headers=mediator).json()["status"] == "succeeded"
    r = client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=mediator)
    assert r.status_code == 409

    doc = client.get(f"{BASE}/{d['id']}/agreement/document", headers=mediator)
    assert doc.status_code == 200 and doc.headers["content-type"].startswith("text/html")
    html = doc.text
    for text in ("人民调解协议书", d["dispute_no"], "刘淑芬", "王建华", "每日22时至次日8时不进行装修作业", "800.00",
                 "三十日内", "司法确认", "玉林北路社区人民调解委员会", "梁德明", "当面签字", "线上确认", "13900001111"):
        assert text in html, text
    party_copy = client.get(f"{BASE}/{d['id']}/agreement/document", headers=auth(rt, RESIDENT, "resident")).text
    assert "13900001111" not in party_copy and "139****1111" in party_copy
    follow = client.get(f"{BASE}/{d['id']}/followups", headers=mediator).json()
    # every term is followed up (the undated one after the agreement took effect)
    assert sorted(f["kind"] for f in follow) == ["court_confirmation", "performance", "performance", "performance"]


def test_party_details_of_a_closed_dispute_cannot_change_and_a_change_asks_for_fresh_confirmations(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    resp = respondent_of(d)
    body = {"facts": "装修噪声纠纷", "terms": [{"party_id": resp["id"], "obligation": "夜间停止施工"}]}
    client.put(f"{BASE}/{d['id']}/agreement", json=body, headers=mediator)
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    assert r.json()["confirmed_party_ids"] == [applicant_of(d)["id"]]
    # The obligor's name on the agreement changes: what the applicant confirmed is no longer the document.
    r = client.patch(f"{BASE}/{d['id']}/parties/{resp['id']}", headers=mediator,
                     json={"role": "respondent", "name": "王建国", "phone": "13900001111"})
    assert r.status_code == 200, r.text
    assert client.get(f"{BASE}/{d['id']}/agreement", headers=mediator).json()["confirmed_party_ids"] == []
    client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    r = client.post(f"{BASE}/{d['id']}/agreement/confirmations", json={"party_id": resp["id"]}, headers=mediator)
    assert r.json()["status"] == "parties_signed"
    sign_and_seal(client, rt, d, MEDIATOR)
    r = client.patch(f"{BASE}/{d['id']}/parties/{resp['id']}", headers=mediator,
                     json={"role": "respondent", "name": "李四", "phone": "13900001111"})
    assert r.status_code == 409
    assert respondent_of(client.get(f"{BASE}/{d['id']}", headers=mediator).json())["name"] == "王建国"


def test_two_parties_confirming_at_the_same_time_sign_the_agreement_on_postgresql(pg_database, tmp_path):
    """Each confirmation sees the other's: the row lock serialises them, and the second one completes the parties'
    signatures."""
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
            with access.audited(pg) as uow:
                s = uow.session
                dispute, _cap = access.readable(uow, d["id"], User(id=RESIDENT, role="resident"),
                                                "write.confirmation")
                party = s.get(Party, applicant_of(d)["id"])
                agreements.confirm(s, dispute, agreements.of(s, dispute.id), party, "online", RESIDENT)
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
        assert got["status"] == "parties_signed" and len(got["confirmed_party_ids"]) == 2
    finally:
        pg.dispose()
