"""Issue 12: notifications that said the wrong thing, or nothing — followers, a dissatisfied requester,
returns routing re-dispatches itself, 指定, extensions, unanswered whistles, answers, praise, mediation's
new events and texts."""

import json
from datetime import UTC, datetime, timedelta

from services.notify.config import load_config
from shared.events.mediation import AgreementPerformed, DisputeApplied, DisputeFailed, DisputeRefused, FollowupDue
from shared.events.routing import (
    CaseAnswered,
    CaseAwaitingDesignation,
    CaseDesignationOverdue,
    CaseExtended,
    CaseReportOverdue,
    CaseReturned,
)
from shared.ids import unit_id

from .conftest import deliver, messages
from .payloads import (
    AT,
    closed,
    dispatched,
    evaluated,
    joined,
    order_fields,
    reopened,
    resolved,
    submitted,
)

REQUESTER, FOLLOWER = "u-resident-1", "u-resident-2"
DEPARTMENT = "510107900001000"


def inbox(rt, env) -> dict[str, list]:
    """recipient → [(template, body)] of one event's inbox messages."""
    out: dict[str, list] = {}
    for m in messages(rt, event_id=env.id, channel="inbox"):
        out.setdefault(m.recipient_id, []).append((m.template, m.body))
    return out


# -- followers (它也影响我) -----------------------------------------------------------------------------
def test_a_resident_who_joined_a_case_hears_of_its_dispatch_result_and_closing(rt):
    deliver(rt, submitted(confidential=False))
    deliver(rt, joined(user=FOLLOWER))
    heard = {}
    for payload in (dispatched(), resolved(), closed()):
        env, _ = deliver(rt, payload)
        heard[payload.event_type] = inbox(rt, env)
    assert [t for t, _ in heard["routing.case.dispatched"][FOLLOWER]] == ["case.followed.dispatched"]
    assert [t for t, _ in heard["routing.case.resolved"][FOLLOWER]] == ["case.followed.resolved"]
    assert [t for t, _ in heard["routing.case.closed"][FOLLOWER]] == ["case.followed.closed"]
    # the requester keeps her own messages; the follower's say nothing of her
    assert [t for t, _ in heard["routing.case.resolved"][REQUESTER]] == ["case.resolved"]
    for by_person in heard.values():
        for _, body in by_person[FOLLOWER]:
            assert "您关注的诉求" in body and REQUESTER not in body and "13800000001" not in body


def test_the_requester_and_followers_of_a_merged_case_follow_the_parent(rt):
    from shared.events.intake import CaseMerged
    deliver(rt, submitted(case_id="c-parent"))
    deliver(rt, submitted(case_id="c-child", reporter="u-resident-3"))
    deliver(rt, joined(case_id="c-child", user=FOLLOWER))
    deliver(rt, CaseMerged(child_case_id="c-child", parent_case_id="c-parent", by_id="u-operator-1", at=AT))
    env, _ = deliver(rt, resolved(case_id="c-parent"))
    heard = inbox(rt, env)
    assert {who: [t for t, _ in got] for who, got in heard.items()} == {
        REQUESTER: ["case.resolved"], FOLLOWER: ["case.followed.resolved"], "u-resident-3": ["case.followed.resolved"]}


def test_an_assisting_units_result_does_not_tell_the_requester_her_case_is_resolved(rt):
    deliver(rt, dispatched())  # the lead order wo-c-1
    env, _ = deliver(rt, resolved(work_order_id="wo-assist"))
    assert inbox(rt, env) == {}


# -- after 不满意 -----------------------------------------------------------------------------------------
def test_a_dissatisfied_requester_is_told_she_may_reopen_until_the_window_ends_not_that_the_case_is_closed(rt):
    deliver(rt, submitted())
    deliver(rt, dispatched())
    deliver(rt, resolved(at=AT))
    env, _ = deliver(rt, evaluated(satisfaction="不满意"))
    [(template, body)] = inbox(rt, env)[REQUESTER]
    # intake: reopen within reopen_window_days (15) of the result; AT is 10:00 on 23 Nov in Chengdu
    assert template == "case.dissatisfied" and "12-08 10:00前" in body and "重新办理" in body
    env, _ = deliver(rt, closed())
    assert REQUESTER not in inbox(rt, env)  # not "已结案，感谢您的参与"


def test_after_the_last_allowed_reopen_a_dissatisfied_requester_is_not_promised_another(rt):
    deliver(rt, submitted())
    for day in (0, 2, 4):  # the first result, then two reopenings (max_reopens 2), each resolved again
        if day:
            deliver(rt, reopened(at=AT + timedelta(days=day - 1)))
        deliver(rt, resolved(at=AT + timedelta(days=day)))
    env, _ = deliver(rt, evaluated(at=AT + timedelta(days=5)))
    [(template, body)] = inbox(rt, env)[REQUESTER]
    assert template == "case.dissatisfied.final" and "不能再申请重新办理" in body


def test_a_dissatisfied_rating_after_the_window_promises_no_reopening(rt):
    deliver(rt, submitted())
    deliver(rt, resolved(at=AT))
    env, _ = deliver(rt, evaluated(at=AT + timedelta(days=16)))  # an operator's late callback record
    assert [t for t, _ in inbox(rt, env)[REQUESTER]] == ["case.dissatisfied.final"]


def test_a_satisfied_requester_still_hears_that_the_case_is_closed(rt):
    deliver(rt, submitted())
    deliver(rt, resolved())
    env, _ = deliver(rt, evaluated(satisfaction="满意"))
    assert inbox(rt, env) == {}
    env, _ = deliver(rt, closed())
    assert [t for t, _ in inbox(rt, env)[REQUESTER]] == ["case.closed"]


def test_after_a_reopening_the_next_closing_is_announced_again(rt):
    deliver(rt, submitted())
    deliver(rt, resolved())
    deliver(rt, evaluated(satisfaction="不满意"))
    deliver(rt, reopened())
    deliver(rt, resolved(at=AT + timedelta(days=3)))
    deliver(rt, evaluated(satisfaction="满意", at=AT + timedelta(days=4)))
    env, _ = deliver(rt, closed(at=AT + timedelta(days=4)))
    assert [t for t, _ in inbox(rt, env)[REQUESTER]] == ["case.closed"]


def test_the_reopen_rule_notify_states_is_intakes():
    from services.intake import config as intake_config
    policy = intake_config.get()
    rules = load_config().rules
    assert (rules.reopen.window_days, rules.reopen.max_reopens) == (policy.reopen_window_days, policy.max_reopens)


# -- returns and 指定 -------------------------------------------------------------------------------------
def returned(awaiting: bool) -> CaseReturned:
    return CaseReturned(**order_fields(seq=3), actor_id="u-grid-worker-001001", reason="不属于本网格",
                        legal_basis="职责清单", awaiting_designation=awaiting)


def test_a_return_routing_redispatches_itself_does_not_ask_the_supervisor_to_dispatch_again(rt):
    env, _ = deliver(rt, returned(awaiting=False))
    [(template, body)] = inbox(rt, env)["u-community-staff-001"]
    assert template == "workorder.returned" and "请重新派单" not in body and "自动转派" in body
    env, _ = deliver(rt, returned(awaiting=True))
    assert inbox(rt, env) == {}  # the designators hear of it: routing.case.awaiting_designation


def designation(cls, **kw):
    return cls(**order_fields(seq=4), dispatch_count=3, designating_unit_id=unit_id("510107001000000"),
               designating_unit_name="玉林街道", designator_ids=["u-supervisor-2"], deadline=AT + timedelta(days=1),
               **kw)


def test_a_case_awaiting_designation_tells_the_designators_by_when(rt):
    env, _ = deliver(rt, designation(CaseAwaitingDesignation))
    [(template, body)] = inbox(rt, env)["u-supervisor-2"]
    assert template == "workorder.awaiting_designation" and "指定承办单位" in body and "11-24 10:00" in body
    env, _ = deliver(rt, designation(CaseDesignationOverdue))
    [m] = messages(rt, event_id=env.id, channel="inbox")
    assert (m.recipient_id, m.template, m.urgent) == ("u-supervisor-2", "workorder.designation_overdue", True)


# -- extensions, unanswered whistles, answers, praise -------------------------------------------------------
def test_the_requester_and_followers_hear_the_new_deadline_of_an_approved_extension(rt):
    deliver(rt, submitted())
    deliver(rt, joined(user=FOLLOWER))
    env, _ = deliver(rt, CaseExtended(**order_fields(seq=4), approved_by="u-supervisor-1",
                                      new_result_deadline=AT + timedelta(days=5), reason="需协调物业"))
    heard = inbox(rt, env)
    [(template, body)] = heard[REQUESTER]
    # the new deadline, never the reason (staff's free text may name people)
    assert template == "case.extended" and "11-28 10:00" in body and "需协调物业" not in body
    assert [t for t, _ in heard[FOLLOWER]] == ["case.followed.extended"]


def test_an_unanswered_whistle_urgently_tells_the_department_and_the_street_supervisors(rt):
    env, _ = deliver(rt, CaseReportOverdue(
        **order_fields(seq=5), whistle_id=1, department_unit_id=unit_id(DEPARTMENT), department_code=DEPARTMENT,
        department_name="区城管执法局", called_by="u-grid-worker-001001", called_at=AT,
        deadline=AT + timedelta(minutes=30), street_unit_id=unit_id("510107001000000"),
        street_supervisor_ids=["u-supervisor-2"]))
    rows = messages(rt, event_id=env.id, channel="inbox")
    assert {(m.recipient_id, m.template) for m in rows} == {
        ("u-department-handler-900001", "workorder.report_overdue"),
        ("u-supervisor-2", "workorder.report_overdue.supervisor")}
    assert all(m.urgent for m in rows)
    assert any("区城管执法局" in m.body for m in rows if m.recipient_id == "u-supervisor-2")


def answered(kind, adopted=None):
    return CaseAnswered(**order_fields(seq=4), kind=kind, actor_id="u-grid-worker-001001", adopted=adopted,
                        answer_text="可联系市场监管热线", requester_id=REQUESTER)


def test_the_requester_hears_whether_her_suggestion_was_adopted_or_the_guidance_given(rt):
    got = []
    for payload in (answered("suggestion", True), answered("suggestion", False), answered("guidance")):
        env, _ = deliver(rt, payload)
        [(template, body)] = inbox(rt, env)[REQUESTER]
        got.append(template)
        assert "可联系市场监管热线" not in body  # the answer is read in the app, where its reader is checked
    assert got == ["case.suggestion_adopted", "case.suggestion_declined", "case.guided"]


def test_praise_is_not_announced_as_a_new_work_order_but_as_praise_to_the_unit(rt):
    env, _ = deliver(rt, dispatched(kind="praise"))
    heard = {who: [t for t, _ in got] for who, got in inbox(rt, env).items()}
    assert heard == {REQUESTER: ["case.praise_forwarded"], "u-grid-worker-001001": ["workorder.praised"]}


def test_a_suggestion_order_asks_its_handler_for_an_answer_by_its_deadline_not_a_sign_for(rt):
    env, _ = deliver(rt, dispatched(kind="suggestion", result_deadline=AT + timedelta(days=21)))
    [(template, body)] = inbox(rt, env)["u-grid-worker-001001"]
    assert template == "workorder.new.suggestion" and "12-14 10:00" in body and "签收" not in body


# -- mediation ------------------------------------------------------------------------------------------
def test_a_committee_head_hears_of_a_new_application_unless_she_entered_it(rt):
    def applied(head):
        return DisputeApplied(dispute_id="d-1", dispute_no="TJ-2026-0001", seq=1, at=AT, dispute_type="neighbour",
                              source="application", committee_id="cm-1", party_user_ids=[REQUESTER],
                              committee_head_id=head)
    env, _ = deliver(rt, applied("u-med-chair-001"))
    heard = inbox(rt, env)
    assert heard["u-med-chair-001"] == [("dispute.applied.head",
                                         "收到新的调解申请（编号 TJ-2026-0001），请审查并及时受理。")]
    env, _ = deliver(rt, applied(None))
    assert set(inbox(rt, env)) == {REQUESTER}


def followup(kind, **kw):
    return FollowupDue(dispute_id="d-1", dispute_no="TJ-2026-0001", seq=7, at=AT, agreement_id="a-1", kind=kind,
                       due_at=AT + timedelta(days=3), mediator_ids=["u-mediator-1"],
                       party_user_ids=[REQUESTER, FOLLOWER], **kw)


def test_a_session_time_in_another_year_is_told_with_its_year(rt):
    """"定于01-01 10:00" for a session in 2020 read as next New Year's Day: the year is written when it is not
    the year of the message."""
    from shared.events import envelope_for
    from shared.events.mediation import SessionScheduled

    def told(starts_at) -> str:
        payload = SessionScheduled(dispute_id="d-1", dispute_no="TJ-2026-0001", seq=3, at=AT, session_id="s-1",
                                   starts_at=starts_at, participant_user_ids=[REQUESTER])
        env, _ = deliver(rt, payload, envelope_for(payload).model_copy(update={"occurred_at": AT}))
        [(template, body)] = inbox(rt, env)[REQUESTER]
        assert template == "session.scheduled"
        return body

    assert "定于2020-01-01 10:00" in told(datetime(2020, 1, 1, 2, 0, tzinfo=UTC))
    assert "定于2027-01-04 10:00" in told(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))  # told in November 2026
    assert "定于12-20 10:00" in told(datetime(2026, 12, 20, 2, 0, tzinfo=UTC))


def test_the_court_confirmation_window_is_told_to_the_parties_and_the_mediators(rt):
    env, _ = deliver(rt, followup("court_confirmation", court_confirmation_deadline=AT + timedelta(days=30),
                                  legal_basis="人民调解法第三十三条"))
    heard = inbox(rt, env)
    assert set(heard) == {REQUESTER, FOLLOWER, "u-mediator-1"}
    [(template, body)] = heard[REQUESTER]
    assert template == "agreement.court_confirmation" and "12-23 10:00前共同向人民法院申请司法确认" in body
    assert heard["u-mediator-1"][0][0] == "followup.due" and "12-23 10:00" in heard["u-mediator-1"][0][1]
    # a performance follow-up is the mediators' only
    env, _ = deliver(rt, followup("performance", term_id=1))
    assert set(inbox(rt, env)) == {"u-mediator-1"}


def test_an_agreement_found_performed_is_told_to_the_parties(rt):
    env, _ = deliver(rt, AgreementPerformed(dispute_id="d-1", dispute_no="TJ-2026-0001", seq=8, at=AT,
                                            agreement_id="a-1", followup_ids=[1], party_user_ids=[REQUESTER],
                                            mediator_ids=["u-mediator-1"]))
    assert inbox(rt, env) == {REQUESTER: [("agreement.performed",
                                           "经回访确认，纠纷（编号 TJ-2026-0001）调解协议约定的义务已全部履行。")]}


def test_parties_are_told_the_routes_the_law_leaves_them_when_mediation_ends_or_is_refused(rt):
    env, _ = deliver(rt, DisputeFailed(dispute_id="d-1", dispute_no="TJ-2026-0001", seq=9, at=AT, reason="failed",
                                       routes=["仲裁", "行政", "司法"], party_user_ids=[REQUESTER]))
    assert inbox(rt, env)[REQUESTER][0][1] == ("纠纷（编号 TJ-2026-0001）调解已终止，可以依法通过仲裁、行政、司法等途径"
                                                "维护自己的权利。")
    env, _ = deliver(rt, DisputeRefused(dispute_id="d-2", dispute_no="TJ-2026-0002", seq=2, at=AT,
                                        refused_by_party_id=FOLLOWER, routes=["仲裁", "行政", "司法"],
                                        party_user_ids=[REQUESTER]))
    assert "明确拒绝调解" in inbox(rt, env)[REQUESTER][0][1]


# -- the rules file ---------------------------------------------------------------------------------------
def test_a_rule_reading_a_field_its_event_lacks_is_refused_when_loaded(tmp_path):
    import shutil

    import pytest

    from services.notify.config import data_dir
    from services.notify.templates import TemplateError
    shutil.copytree(data_dir(), tmp_path, dirs_exist_ok=True)
    rules = json.loads((tmp_path / "rules.json").read_text(encoding="utf-8"))
    rules["events"]["routing.case.returned"][0]["when"] = {"awaiting_designatoin": False}
    (tmp_path / "rules.json").write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TemplateError, match="no field awaiting_designatoin"):
        load_config(tmp_path)


# -- the calendar --------------------------------------------------------------------------------------
def test_the_calendars_keepers_hear_that_next_years_holiday_notice_is_not_loaded(rt):
    from datetime import UTC, date, datetime

    from shared.events.routing import CalendarNotCovered

    env, result = deliver(rt, CalendarNotCovered(year=2027, starts=date(2027, 1, 1), policy="weekdays",
                                                 keeper_ids=["u-admin-1", "u-supervisor-1"],
                                                 at=datetime(2026, 11, 2, 1, tzinfo=UTC)))
    assert result.outcome.value == "ack"
    heard = inbox(rt, env)
    assert set(heard) == {"u-admin-1", "u-supervisor-1"}
    [(template, body)] = heard["u-admin-1"]
    assert template == "calendar.not_covered" and "2027" in body and "周一至周五" in body


# -- the grid's day and the residents' consultation (issues 16 and 17) --------------------------------------
def test_a_grid_short_of_its_patrols_is_told_to_its_community_and_an_overdue_visit_to_the_grid_too(rt):
    from shared.events.grid import PatrolMissed, VisitOverdue

    from .payloads import COMMUNITY, GRID

    env, _ = deliver(rt, PatrolMissed(grid_code=GRID, grid_id=unit_id(GRID), community_code=COMMUNITY,
                                      community_id=unit_id(COMMUNITY), day="2026-11-02", required=2, done=1))
    heard = inbox(rt, env)
    [(template, body)] = heard["u-community-staff-001"]
    assert template == "patrol.missed" and "巡查 1 次" in body and "每日 2 次" in body
    assert "u-grid-worker-001001" not in heard  # the warning is the community's to follow up
    env, _ = deliver(rt, VisitOverdue(person_id="p-1", grid_code=GRID, grid_id=unit_id(GRID), community_code=COMMUNITY,
                                      community_id=unit_id(COMMUNITY), due_at=AT))
    heard = inbox(rt, env)
    assert {"u-grid-worker-001001", "u-community-staff-001"} <= set(heard)
    assert all(t == "visit.overdue" and "p-1" not in b for msgs in heard.values() for t, b in msgs)


def test_the_resident_who_raised_a_small_matter_hears_its_steps_and_the_representatives_their_meeting(rt):
    from shared.events.selfgov import MatterOnAgenda, MatterSettled, MeetingConvened

    deliver(rt, submitted(case_id="c-9"))
    common = {"matter_id": "m-1", "case_id": "c-9", "community_code": "510107001001000", "at": AT}
    env, _ = deliver(rt, MatterOnAgenda(**common, seq=2, representatives=5, households=0))
    assert [t for t, _ in inbox(rt, env)[REQUESTER]] == ["matter.on_agenda"]
    env, _ = deliver(rt, MeetingConvened(**common, seq=3, meeting_id="mt-1", stage="representatives",
                                         stage_name="居民代表会议票决", starts_at=AT + timedelta(days=3),
                                         invitee_user_ids=["u-resident-2"], raised_by=REQUESTER))
    heard = inbox(rt, env)
    assert set(heard) == {"u-resident-2", REQUESTER} and "居民代表会议票决" in heard["u-resident-2"][0][1]
    env, _ = deliver(rt, MatterSettled(**common, seq=9, resolution_id="r-1", raised_by=REQUESTER))
    assert [t for t, _ in inbox(rt, env)[REQUESTER]] == ["matter.settled"]  # once, though two rules reach her
