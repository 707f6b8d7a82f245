"""Sessions, the extension of the clock, risk, the scanner's clocks and follow-ups."""

import threading
import time
from datetime import UTC, datetime, timedelta

from services.mediation import clocks
from services.mediation.models import Dispute

from .conftest import PHONES, auth, events
from .helpers import CHAIR, MEDIATOR, RESIDENT, RESIDENT_2, accepted, respondent_of, sign_and_seal, started

BASE = "/mediation/v1/disputes"


def test_an_extension_needs_every_partys_consent(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR, respondent_user=RESIDENT_2)
    mediator = auth(rt, MEDIATOR)
    deadline = datetime.fromisoformat(d["deadline"])
    ext = client.post(f"{BASE}/{d['id']}/extensions", json={"days": 15, "reason": "需等待房屋漏水鉴定结果"},
                      headers=mediator).json()
    r = client.post(f"{BASE}/{d['id']}/extensions/{ext['id']}/consents", json={"consent": True},
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.json()["status"] == "pending"
    assert datetime.fromisoformat(r.json()["deadline"]) == deadline  # one party is not enough
    r = client.post(f"{BASE}/{d['id']}/extensions/{ext['id']}/consents", json={"consent": True},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.json()["status"] == "granted"
    assert datetime.fromisoformat(r.json()["deadline"]) == deadline + timedelta(days=15)
    # A second request refused by one party changes nothing.
    ext2 = client.post(f"{BASE}/{d['id']}/extensions", json={"days": 10, "reason": "再延"}, headers=mediator).json()
    r = client.post(f"{BASE}/{d['id']}/extensions/{ext2['id']}/consents", json={"consent": False},
                    headers=auth(rt, RESIDENT_2, "resident"))
    assert r.json()["status"] == "refused"
    assert datetime.fromisoformat(r.json()["deadline"]) == deadline + timedelta(days=15)
    r = client.post(f"{BASE}/{d['id']}/extensions/{ext2['id']}/consents", json={"consent": True},
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension.decided"


def test_sessions_follow_the_parties_wishes_and_the_joint_meeting_needs_all_four(client, rt):
    d = accepted(client, rt, dispute_type="property")
    holder = auth(rt, d["mediators"][0]["id"])
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    one = [{"name": "物业张经理", "role_code": "property_company"}]
    r = client.post(f"{BASE}/{d['id']}/sessions", headers=holder,
                    json={"starts_at": when, "place": "社区调解室", "kind": "joint_meeting", "invitees": one})
    assert r.status_code == 422 and r.json()["error"]["code"] == "session.joint_meeting_incomplete"
    four = [{"name": "居委会孙主任", "role_code": "residents_committee"},
            {"name": "物业张经理", "role_code": "property_company"},
            {"name": "业委会李主任", "role_code": "owners_committee"},
            {"name": "社区民警赵警官", "role_code": "police_office", "user_id": "u-department-handler-900002"}]
    r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": when, "place": "社区调解室",
                                                        "kind": "joint_meeting", "invitees": four}, headers=holder)
    assert r.status_code == 201, r.text
    meeting = r.json()
    scheduled = events(rt, "mediation.session.scheduled")[-1]["data"]
    assert RESIDENT in scheduled["participant_user_ids"] and "u-department-handler-900002" in scheduled[
        "participant_user_ids"]
    attended = [p["id"] for p in meeting["participants"] if p["role_code"] != "owners_committee"]
    started(rt, meeting["id"])
    r = client.post(f"{BASE}/{d['id']}/sessions/{meeting['id']}/record",
                    json={"attended_participant_ids": attended, "record": "四方到场，物业承诺一周内修复电梯。"},
                    headers=holder)
    assert r.status_code == 200 and r.json()["status"] == "held"
    held = events(rt, "mediation.session.held")[-1]["data"]
    assert RESIDENT in held["attended_user_ids"]
    sessions = client.get(f"{BASE}/{d['id']}/sessions", headers=auth(rt, RESIDENT, "resident")).json()
    assert sessions[0]["record"].startswith("四方到场")


def test_a_party_asking_for_privacy_keeps_sessions_private(client, rt):
    d2 = client.post(BASE, json={"dispute_type": "family", "matter": "兄弟二人因赡养母亲费用分担产生纠纷。",
                                 "privacy": "public",
                                 "parties": [{"role": "applicant", "name": "刘淑芬"},
                                             {"role": "respondent", "name": "陈建国", "phone": PHONES[RESIDENT_2]}],
                                 "requested_mediator_id": MEDIATOR},
                     headers=auth(rt, RESIDENT, "resident")).json()
    client.post(f"{BASE}/{d2['id']}/consent", json={"consent": True, "privacy_request": "private"},
                headers=auth(rt, RESIDENT_2, "resident"))
    client.post(f"{BASE}/{d2['id']}/accept", headers=auth(rt, CHAIR))
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = client.post(f"{BASE}/{d2['id']}/sessions", json={"starts_at": when, "place": "调解室", "privacy": "public"},
                    headers=auth(rt, MEDIATOR))
    assert r.status_code == 409 and r.json()["error"]["code"] == "session.private_requested"


def test_high_risk_raises_one_warning_for_routing_and_the_police(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/risk", json={"indicators": ["vulnerable_party"]}, headers=mediator)
    assert r.json()["level"] == "低" and not r.json()["raised"]
    r = client.post(f"{BASE}/{d['id']}/risk", json={"indicators": ["threats", "past_violence"]}, headers=mediator)
    assert r.json()["level"] == "高" and r.json()["raised"]
    r = client.post(f"{BASE}/{d['id']}/risk", json={"indicators": ["threats", "past_violence"]}, headers=mediator)
    assert r.json()["level"] == "高" and not r.json()["raised"]  # already raised at this level
    r = client.post(f"{BASE}/{d['id']}/risk", json={"indicators": ["weapons"]}, headers=mediator)
    assert r.json()["level"] == "极高" and r.json()["raised"]
    raised = events(rt, "mediation.risk.raised")
    assert [e["data"]["level"] for e in raised] == ["高", "极高"]
    data = raised[0]["data"]
    assert data["street_code"] == "510107001000000" and data["street_unit_id"]
    assert data["police_unit_code"] == "510107900002000" and data["indicators"] == ["past_violence", "threats"]
    r = client.post(f"{BASE}/{d['id']}/risk", json={"indicators": ["astrology"]}, headers=mediator)
    assert r.status_code == 422 and r.json()["error"]["code"] == "risk.unknown_indicator"
    assert client.get(f"{BASE}/{d['id']}", headers=mediator).json()["risk_level"] == "极高"


def test_the_scanner_emits_overdue_and_follow_ups_exactly_once(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    deadline = datetime.fromisoformat(d["deadline"])
    assert clocks.scan(rt, now=deadline - timedelta(minutes=1)) == 0
    assert clocks.scan(rt, now=deadline + timedelta(minutes=1)) == 1
    assert clocks.scan(rt, now=deadline + timedelta(days=3)) == 0
    overdue = events(rt, "mediation.case.overdue")
    assert len(overdue) == 1 and overdue[0]["data"]["mediator_ids"] == [MEDIATOR]

    signed = accepted(client, rt, requested_mediator_id=MEDIATOR)
    due = datetime.now(UTC) + timedelta(days=5)
    client.put(f"{BASE}/{signed['id']}/agreement", headers=auth(rt, MEDIATOR), json={
        "facts": "楼上装修噪声纠纷", "terms": [{"party_id": respondent_of(signed)["id"], "obligation": "安装隔音垫",
                                     "due_at": due.isoformat()}]})
    client.post(f"{BASE}/{signed['id']}/agreement/confirmations", json={"party_id": respondent_of(signed)["id"]},
                headers=auth(rt, MEDIATOR))
    client.post(f"{BASE}/{signed['id']}/agreement/confirmations", json={}, headers=auth(rt, RESIDENT, "resident"))
    sign_and_seal(client, rt, signed, MEDIATOR)
    assert clocks.scan(rt, now=due) == 0  # performance follow-up: one day after the term's due date
    assert clocks.scan(rt, now=due + timedelta(days=1, minutes=1)) == 1
    assert clocks.scan(rt, now=datetime.now(UTC) + timedelta(days=24)) == 1  # 7 days before the 30-day window ends
    assert clocks.scan(rt, now=datetime.now(UTC) + timedelta(days=60)) == 0
    kinds = [e["data"]["kind"] for e in events(rt, "mediation.followup.due")]
    assert kinds == ["performance", "court_confirmation"]
    follow = client.get(f"{BASE}/{signed['id']}/followups", headers=auth(rt, MEDIATOR)).json()
    perf = next(f for f in follow if f["kind"] == "performance")
    r = client.post(f"{BASE}/{signed['id']}/followups/{perf['id']}", json={"result": "performed", "note": "已安装"},
                    headers=auth(rt, MEDIATOR))
    assert r.status_code == 200 and r.json()["result"] == "performed"
    seqs = [e["data"]["seq"] for e in events(rt) if e["data"]["dispute_id"] == signed["id"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_participants_are_reminded_once_before_a_session(client, rt):
    d = accepted(client, rt)
    holder = auth(rt, d["mediators"][0]["id"])
    starts = datetime.now(UTC) + timedelta(days=3)
    r = client.post(f"{BASE}/{d['id']}/sessions", headers=holder,
                    json={"starts_at": starts.isoformat(), "place": "社区调解室"})
    assert r.status_code == 201, r.text
    assert clocks.scan(rt, now=starts - timedelta(hours=30)) == 0  # not yet within the 24 h lead
    assert clocks.scan(rt, now=starts - timedelta(hours=20)) == 1
    assert clocks.scan(rt, now=starts - timedelta(hours=2)) == 0  # once only
    reminder = events(rt, "mediation.session.reminder")[-1]["data"]
    assert reminder["session_id"] == r.json()["id"] and RESIDENT in reminder["participant_user_ids"]


def test_a_session_time_without_a_time_zone_gets_a_4xx_not_a_500(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": "2030-01-01T09:00:00", "place": "调解室"},
                    headers=auth(rt, MEDIATOR))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "starts_at", r.text


def test_the_scanner_thread_fires_what_is_due_and_stops_when_told(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    with rt.uow() as session:  # a month later
        session.get(Dispute, d["id"]).deadline = datetime.now(UTC) - timedelta(minutes=1)
    stop = threading.Event()
    scanner = threading.Thread(target=clocks.background, args=(rt, stop))
    scanner.start()
    try:
        for _ in range(100):
            if events(rt, "mediation.case.overdue"):
                break
            time.sleep(0.02)
    finally:
        stop.set()
        scanner.join(5)
    assert not scanner.is_alive()
    assert [e["data"]["dispute_id"] for e in events(rt, "mediation.case.overdue")] == [d["id"]]


def test_a_session_cannot_be_scheduled_in_the_past_nor_recorded_as_held_before_it_starts(client, rt):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    mediator = auth(rt, MEDIATOR)
    for past in ("2021-12-20T10:00:00+08:00", (datetime.now(UTC) - timedelta(hours=1)).isoformat()):
        r = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": past, "place": "调解室"}, headers=mediator)
        assert r.status_code == 422 and r.json()["error"]["code"] == "session.in_the_past", r.text
        assert r.json()["error"]["field"] == "starts_at"
    assert client.get(f"{BASE}/{d['id']}/sessions", headers=mediator).json() == []
    # A device's clock a little ahead of ours: a session "starting now" is taken.
    just_now = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": just_now, "place": "调解室"},
                       headers=mediator).status_code == 201
    later = (datetime.now(UTC) + timedelta(days=19)).isoformat()
    meeting = client.post(f"{BASE}/{d['id']}/sessions", json={"starts_at": later, "place": "调解室"},
                          headers=mediator).json()
    body = {"attended_participant_ids": [], "record": "双方到场，进行了调解，达成初步意向"}
    r = client.post(f"{BASE}/{d['id']}/sessions/{meeting['id']}/record", json=body, headers=mediator)
    assert r.status_code == 409 and r.json()["error"]["code"] == "session.not_yet", r.text
    held = [m for m in client.get(f"{BASE}/{d['id']}/sessions", headers=mediator).json() if m["status"] == "held"]
    assert held == []
    started(rt, meeting["id"])
    r = client.post(f"{BASE}/{d['id']}/sessions/{meeting['id']}/record", json=body, headers=mediator)
    assert r.status_code == 200 and r.json()["status"] == "held", r.text
