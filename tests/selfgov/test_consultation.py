"""议事: a 小事 case walked from proposal to the case closed by the residents; the seconding threshold, quorum,
majority, notice, publication and objections each refusing what they must."""

import uuid
from datetime import UTC, date, datetime, timedelta

from services.selfgov.service import SPEC
from shared.events import envelope_for
from shared.events.intake import CaseSubmitted, CaseWithdrawn
from shared.messaging.dispatcher import Outcome

from .conftest import auth, events, staff
from .helpers import (
    HOUSEHOLD_2,
    RESIDENT,
    P,
    convened,
    on_agenda,
    proposed,
    publication_over,
    resolved,
    seconded,
    stage_passed,
    started,
)

POINT = {"lat": 30.6283, "lon": 104.052115}  # in 玉林北路社区's first grid


def _deliver(rt, payload):
    return SPEC.dispatcher(rt).handle(envelope_for(payload).to_bytes())


def _case(case_id: str, matter_class: str = "小事", **extra) -> CaseSubmitted:
    return CaseSubmitted(**{"case_id": case_id, "case_no": "2026-11-000123", "category": "env.greening",
                            "channel": "miniprogram", "matter_class": matter_class, "reporter_id": RESIDENT,
                            "route": "consultation", "submitted_at": datetime.now(UTC), **POINT, **extra})


def test_a_small_matter_case_is_walked_from_proposal_to_the_case_closed_by_the_residents(client, rt):
    case_id = str(uuid.uuid4())
    assert _deliver(rt, _case(case_id)).outcome == Outcome.ACK
    assert _deliver(rt, _case(case_id)).outcome == Outcome.ACK  # redelivered: still one matter
    raised = events(rt, "selfgov.matter.raised")
    assert len(raised) == 1 and raised[0]["data"]["case_id"] == case_id
    matter_id = raised[0]["data"]["matter_id"]
    mine = client.get(f"{P}/matters/{matter_id}", headers=auth(rt, RESIDENT)).json()
    assert mine["community_code"] == "510107001001000" and mine["status"] == "proposed"

    seconded(client, rt, matter_id)  # a representative (1 of 3: 10 % needs 1)
    assert client.post(f"{P}/matters/{matter_id}/agenda", headers=staff(rt)).json()["status"] == "on_agenda"
    first = stage_passed(client, rt, matter_id)
    assert first["stage_name"] == "两委联席会议商议" and first["result"] == "passed"
    assert stage_passed(client, rt, matter_id)["stage_name"] == "党员大会审议"
    vote = stage_passed(client, rt, matter_id, resolution="补种绿化带，由物业三十日内完成，费用从公共收益列支。")
    assert vote["stage_name"] == "居民代表会议票决" and (vote["members"], vote["attended"]) == (3, 3)

    matter = client.get(f"{P}/matters/{matter_id}", headers=auth(rt, RESIDENT)).json()
    assert matter["status"] == "publicizing" and matter["notice_id"]
    notice = client.get(f"{P}/notices/{matter['notice_id']}", headers=auth(rt, RESIDENT)).json()
    assert notice["category"] == "resolution" and "补种绿化带" in notice["body"]

    publication_over(rt, matter_id)
    due = (date.today() + timedelta(days=30)).isoformat()
    r = client.post(f"{P}/matters/{matter_id}/tasks", headers=staff(rt), json={"tasks": [
        {"title": "补种绿化带", "owner": "玉林物业", "due_on": due},
        {"title": "公示费用支出", "owner": "社区居委会", "due_on": due}]})
    assert r.status_code == 201, r.text
    first_task, second_task = (t["id"] for t in r.json())
    client.post(f"{P}/matters/{matter_id}/tasks/{first_task}/done", headers=staff(rt), json={"note": "已补种"})
    assert events(rt, "selfgov.matter.settled") == []  # one task still open
    r = client.post(f"{P}/matters/{matter_id}/tasks/{second_task}/done", headers=staff(rt), json={"note": "已公示"})
    assert r.status_code == 200

    settled = events(rt, "selfgov.matter.settled")
    assert len(settled) == 1
    data = settled[0]["data"]
    assert data["case_id"] == case_id and data["case_no"] == "2026-11-000123" and data["raised_by"] == RESIDENT
    resolution = client.get(f"{P}/resolutions/{data['resolution_id']}", headers=auth(rt, RESIDENT)).json()
    assert resolution["text"].startswith("补种绿化带")
    steps = [e["kind"] for e in client.get(f"{P}/matters/{matter_id}/timeline", headers=auth(rt, RESIDENT)).json()]
    assert steps[0] == "raised" and steps[-1] == "settled"
    for kind in ("on_agenda", "meeting_convened", "meeting_held", "publicized", "task", "task_done"):
        assert kind in steps
    seqs = [e["data"]["seq"] for e in events(rt) if e["type"].startswith(("selfgov.matter", "selfgov.meeting"))]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    convened_events = events(rt, "selfgov.meeting.convened")
    assert len(convened_events) == 3 and convened_events[0]["data"]["raised_by"] == RESIDENT


def test_a_proposal_below_the_seconding_threshold_is_refused_with_the_reason(client, rt):
    matter_id = proposed(client, rt)
    r = client.post(f"{P}/matters/{matter_id}/seconds", headers=auth(rt, HOUSEHOLD_2), json={})
    assert r.status_code == 201 and r.json()["households"] == 1 and not r.json()["reached"]
    r = client.post(f"{P}/matters/{matter_id}/agenda", headers=staff(rt))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "matter.seconding_short"
    assert "居民代表附议 0 人" in error["detail"] and "附议住户 1 户（需至少 50 户）" in error["detail"]
    assert client.get(f"{P}/matters/{matter_id}", headers=staff(rt)).json()["status"] == "proposed"
    again = client.post(f"{P}/matters/{matter_id}/seconds", headers=auth(rt, HOUSEHOLD_2), json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "matter.already_seconded"


def test_the_resident_who_raised_a_matter_cannot_second_it_herself(client, rt):
    """She is one of three representatives: her own second would have been the 10% that puts it on the agenda."""
    matter_id = proposed(client, rt)  # by RESIDENT, a representative
    r = client.post(f"{P}/matters/{matter_id}/seconds", headers=auth(rt, RESIDENT), json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "matter.own_proposal", r.text
    r = client.post(f"{P}/matters/{matter_id}/agenda", headers=staff(rt))
    assert r.status_code == 409 and r.json()["error"]["code"] == "matter.seconding_short"
    assert "居民代表附议 0 人" in r.json()["error"]["detail"]


def test_a_resident_off_the_roster_may_neither_propose_nor_second(client, rt):
    r = client.post(f"{P}/matters", headers=auth(rt, "u-outsider"), json={
        "community_code": "510107001001000", "title": "小区停车", "description": "停车难"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "member.not_registered"
    matter_id = proposed(client, rt)
    assert client.post(f"{P}/matters/{matter_id}/seconds", headers=auth(rt, "u-outsider"), json={}).status_code == 404


def test_a_meeting_needs_notice_and_its_record_waits_for_it(client, rt):
    matter_id = on_agenda(client, rt)
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = client.post(f"{P}/matters/{matter_id}/meetings", headers=staff(rt),
                    json={"starts_at": soon, "place": "议事厅", "notice": "明天开会"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "meeting.short_notice"
    meeting_id = convened(client, rt, matter_id)
    body = {"members": 5, "attended": 5, "votes_for": 5, "votes_against": 0, "record": "x", "supervisor_present": True}
    r = client.post(f"{P}/matters/{matter_id}/meetings/{meeting_id}/record", headers=staff(rt), json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "meeting.not_yet"


def test_without_quorum_the_stage_is_called_again_and_a_vote_against_ends_the_matter(client, rt):
    matter_id = on_agenda(client, rt)
    meeting_id = convened(client, rt, matter_id)
    started(rt, meeting_id)
    few = {"members": 9, "attended": 4, "votes_for": 4, "votes_against": 0, "record": "到会不足",
           "supervisor_present": True}
    r = client.post(f"{P}/matters/{matter_id}/meetings/{meeting_id}/record", headers=staff(rt), json=few)
    assert r.json()["result"] == "no_quorum"
    matter = client.get(f"{P}/matters/{matter_id}", headers=staff(rt)).json()
    assert matter["status"] == "on_agenda" and matter["stage"]["code"] == "joint_meeting"
    meeting_id = convened(client, rt, matter_id)
    started(rt, meeting_id)
    half = {"members": 9, "attended": 6, "votes_for": 3, "votes_against": 3, "record": "意见分歧",
            "supervisor_present": True}  # 3 of 6 is not more than half
    r = client.post(f"{P}/matters/{matter_id}/meetings/{meeting_id}/record", headers=staff(rt), json=half)
    assert r.json()["result"] == "rejected"
    matter = client.get(f"{P}/matters/{matter_id}", headers=staff(rt)).json()
    assert matter["status"] == "rejected" and matter["close_reason"] == "两委联席会议商议未通过"
    assert events(rt, "selfgov.matter.rejected")[0]["data"]["stage"] == "joint_meeting"


def test_objections_during_publication_hold_the_tasks_until_answered(client, rt):
    matter_id = resolved(client, rt)
    r = client.post(f"{P}/matters/{matter_id}/objections", headers=auth(rt, HOUSEHOLD_2),
                    json={"text": "一楼住户不使用电梯，不应分摊费用。"})
    assert r.status_code == 201
    objection_id = r.json()["id"]
    due = (date.today() + timedelta(days=60)).isoformat()
    tasks = {"tasks": [{"title": "电梯招标", "owner": "社区居委会", "due_on": due}]}
    r = client.post(f"{P}/matters/{matter_id}/tasks", headers=staff(rt), json=tasks)
    assert r.json()["error"]["code"] == "matter.publication_running"
    publication_over(rt, matter_id)
    late = client.post(f"{P}/matters/{matter_id}/objections", headers=auth(rt, HOUSEHOLD_2), json={"text": "再议"})
    assert late.json()["error"]["code"] == "matter.publication_over"
    r = client.post(f"{P}/matters/{matter_id}/tasks", headers=staff(rt), json=tasks)
    assert r.json()["error"]["code"] == "matter.objections_open"
    client.post(f"{P}/matters/{matter_id}/objections/{objection_id}/reply", headers=staff(rt),
                json={"reply": "一楼住户按系数 0 分摊，已在决议中写明。"})
    assert client.post(f"{P}/matters/{matter_id}/tasks", headers=staff(rt), json=tasks).status_code == 201
    mine = client.get(f"{P}/matters/{matter_id}/objections", headers=auth(rt, HOUSEHOLD_2)).json()
    assert mine[0]["mine"] and mine[0]["reply"].startswith("一楼住户")
    timeline = client.get(f"{P}/matters/{matter_id}/timeline", headers=auth(rt, RESIDENT)).json()
    assert any(e["kind"] == "objection_answered" for e in timeline)
    assert not any("一楼住户" in e["text"] for e in timeline)  # the reply stays with the objection
    assert client.get(f"{P}/matters/{matter_id}/objections", headers=auth(rt, RESIDENT)).json() == []


def test_only_cases_intake_routes_to_consultation_become_matters_and_a_withdrawn_case_ends_its_proposal(client, rt):
    # Intake's catalogue decides which 小事 the residents consult; the rest are dispatched or mediated.
    assert _deliver(rt, _case(str(uuid.uuid4()), route="dispatch")).outcome == Outcome.ACK
    assert _deliver(rt, _case(str(uuid.uuid4()), route="mediation")).outcome == Outcome.ACK
    assert events(rt, "selfgov.matter.raised") == []
    case_id = str(uuid.uuid4())
    _deliver(rt, _case(case_id))
    matter_id = events(rt, "selfgov.matter.raised")[0]["data"]["matter_id"]
    _deliver(rt, CaseWithdrawn(case_id=case_id, case_no="2026-11-000123", by_id=RESIDENT, at=datetime.now(UTC)))
    assert client.get(f"{P}/matters/{matter_id}", headers=staff(rt)).json()["status"] == "withdrawn"


def test_staff_of_another_community_neither_see_nor_manage_a_matter(client, rt):
    matter_id = proposed(client, rt)
    other = staff(rt, "u-community-staff-002")
    assert client.get(f"{P}/matters/{matter_id}", headers=other).status_code == 404
    assert client.post(f"{P}/matters/{matter_id}/agenda", headers=other).status_code == 404
    street = auth(rt, "u-street-1", "street_dispatcher")
    assert client.get(f"{P}/matters/{matter_id}", headers=street).json()["capacity"] == "manager"
    supervisor = auth(rt, "u-supervisor-2", "supervisor")
    assert client.post(f"{P}/matters/{matter_id}/agenda", headers=supervisor).status_code == 403
