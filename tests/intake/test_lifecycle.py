"""Status follows routing's and mediation's events; a stale event never moves a case backwards;
the resident's withdraw, supplement, reopen and callback evaluation."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from services.intake.evaluation import expire_due
from services.intake.models import Case, Evaluation
from shared.db import utcnow
from shared.events.mediation import DisputeAccepted, DisputeApplied, DisputeSucceeded
from shared.events.routing import (
    CaseAwaitingDesignation,
    CaseClosed,
    CaseContacted,
    CaseDesignated,
    CaseExtended,
    CaseResolved,
    CaseReturned,
    CaseSigned,
    CaseVerified,
    CaseWarned,
)

from .conftest import GRID_POINT, NEAR, at, dispatched, resolve, work_order


def test_status_follows_routing_and_the_public_timeline_hides_internal_notes(intake):
    case = intake.submit()
    resolve(intake, case)
    view = intake.get(case["id"])
    assert view["status"] == "resolved" and view["outcome"] == "解决到位"
    assert view["unit_name"] == "玉林北路社区第一网格"
    kinds = [t["kind"] for t in view["timeline"]]
    assert kinds == ["submitted", "dispatched", "signed", "contacted", "resolved"]
    assert all(t["public"] for t in view["timeline"])
    staff = intake.get(case["id"], role="supervisor")  # an operator reads the cases she filed only
    assert "dispatch_rule" in [t["kind"] for t in staff["timeline"]]
    assert view["can"]["evaluate"] and view["can"]["reopen"] and not view["can"]["withdraw"]


def test_a_stale_or_repeated_event_never_moves_a_case_backwards(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1))
    intake.deliver(CaseContacted(**work_order(case, 3), actor_id="w"))
    assert intake.get(case["id"])["status"] == "contacted"
    # signed (seq 2) arrives late: dropped, the case stays contacted
    intake.deliver(CaseSigned(**work_order(case, 2), actor_id="w"))
    intake.deliver(dispatched(case, 1))  # a redelivery with another message id
    view = intake.get(case["id"])
    assert view["status"] == "contacted"
    assert [t["kind"] for t in view["timeline"]] == ["submitted", "dispatched", "contacted"]
    # a warning is a note for staff, and changes no status
    intake.deliver(CaseWarned(**work_order(case, 4), clock="result", deadline=at(30)))
    assert intake.get(case["id"])["status"] == "contacted"
    assert "warned_note" in [t["kind"] for t in intake.get(case["id"], role="supervisor")["timeline"]]


def test_a_return_then_redispatch_and_late_events_of_the_old_order_change_nothing(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1, "wo-1", "玉林街道"))
    intake.deliver(CaseSigned(**work_order(case, 2, "wo-1", "玉林街道"), actor_id="s"))
    intake.deliver(CaseReturned(**work_order(case, 3, "wo-1", "玉林街道"), actor_id="s", reason="不属于本单位",
                                legal_basis="《城市管理职责清单》第 3 条"))
    view = intake.get(case["id"])
    assert view["status"] == "returned"
    assert "不属于本单位" not in str(view["timeline"])  # the reason is internal
    intake.deliver(dispatched(case, 1, "wo-2", "武侯区城管局", minute=10))
    intake.deliver(CaseSigned(**work_order(case, 2, "wo-2", "武侯区城管局", minute=11), actor_id="d"))
    # an old order's event arriving now is noted for staff, never shown as the case's state
    intake.deliver(CaseContacted(**work_order(case, 4, "wo-1", "玉林街道", minute=12), actor_id="s"))
    view = intake.get(case["id"])
    assert view["status"] == "signed" and view["unit_name"] == "武侯区城管局"
    # an assisting unit's order adds a line, not a new owner
    intake.deliver(dispatched(case, 1, "wo-3", "玉林派出所", minute=13, role="assist"))
    view = intake.get(case["id"])
    assert view["unit_name"] == "武侯区城管局" and view["timeline"][-1]["text"] == "协办单位：玉林派出所"


def test_an_extended_deadline_is_shown_in_local_time(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1))
    intake.deliver(CaseExtended(**work_order(case, 2), approved_by="s", new_result_deadline=at(0), reason="材料不全"))
    [entry] = [t for t in intake.get(case["id"])["timeline"] if t["kind"] == "extended"]
    assert entry["text"] == "办理期限已延长至 2099-01-01 16:00"  # 08:00 UTC


def test_withdraw_only_before_handling_starts(intake):
    early = intake.submit()
    intake.deliver(dispatched(early, 1))
    r = intake.client.post(f"/intake/v1/cases/{early['id']}/withdraw", json={"reason": "已自行解决"},
                           headers=intake.auth("resident"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert intake.events("intake.case.withdrawn")[0]["data"]["case_id"] == early["id"]
    intake.deliver(CaseSigned(**work_order(early, 2), actor_id="w"))  # routing had not seen it yet
    assert intake.get(early["id"])["status"] == "withdrawn"
    late = intake.submit()
    intake.deliver(dispatched(late, 1, "wo-9"))
    intake.deliver(CaseSigned(**work_order(late, 2, "wo-9"), actor_id="w"))
    r = intake.client.post(f"/intake/v1/cases/{late['id']}/withdraw", headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_withdraw"
    r = intake.client.post(f"/intake/v1/cases/{late['id']}/withdraw", headers=intake.auth("resident", "u-x"))
    assert r.status_code == 404


def test_a_case_others_joined_or_were_merged_into_cannot_be_withdrawn_from_under_them(intake):
    parent = intake.submit()
    child = intake.submit(user_id="u-resident-2", description="东门垃圾没人收", **NEAR)
    # (an admin: not yet dispatched, the cases are in no street's scope)
    assert intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": parent["id"]},
                              headers=intake.auth("admin")).status_code == 200
    assert intake.get(parent["id"])["can"]["withdraw"] is False
    r = intake.client.post(f"/intake/v1/cases/{parent['id']}/withdraw", headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.shared_cannot_withdraw"
    assert r.json()["error"]["field"] == "interest_count"
    assert intake.get(child["id"], user_id="u-resident-2")["status"] == "submitted"
    assert intake.events("intake.case.withdrawn") == []
    joined = intake.submit(**GRID_POINT, description="楼下路灯不亮了", category="facility.streetlight")
    assert intake.client.post(f"/intake/v1/cases/{joined['id']}/join",
                              headers=intake.auth("resident", "u-resident-3")).status_code == 200
    r = intake.client.post(f"/intake/v1/cases/{joined['id']}/withdraw", headers=intake.auth("resident"))
    assert r.status_code == 409


def test_supplement_adds_material_to_the_public_timeline(intake):
    case = intake.submit()
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/supplements", json={"text": "今天又堆到路边了"},
                           headers=intake.auth("resident"))
    assert r.status_code == 200
    assert r.json()["timeline"][-1]["text"] == "反映人补充材料：今天又堆到路边了"
    assert intake.events("intake.case.supplemented")[0]["data"]["by_id"] == "u-resident-1"


def test_callback_evaluation_is_an_event_once_per_handling(intake):
    # filed by an operator for a caller whose phone is her verified one: the case is hers
    case = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True)
    caller = intake.auth("resident", phone="13812345678")
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation",
                           json={"contacted": True, "solved": True, "satisfaction": "满意"}, headers=caller)
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_evaluate"
    resolve(intake, case)
    body = {"contacted": True, "solved": False, "satisfaction": "不满意", "comment": "只清了一次"}
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation", json=body, headers=caller)
    assert r.status_code == 200
    [ev] = intake.events("intake.case.evaluated")
    assert ev["data"] | {"at": None} == {"case_id": case["id"], "case_no": case["case_no"], "work_order_id": "wo-1",
                                         "unit_id": "unit-玉林北路社区第一网格", "evaluated": True, "contacted": True,
                                         "solved": False, "satisfaction": "不满意", "via": "resident", "at": None}
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation", json=body, headers=intake.auth("operator"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.already_evaluated"
    assert "只清了一次" not in str(intake.get(case["id"], phone="13812345678")["timeline"])  # the comment is for staff


def test_an_operator_records_an_evaluation_taken_on_the_phone(intake):
    case = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True)
    resolve(intake, case)
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation",
                           json={"contacted": True, "solved": True, "satisfaction": "基本满意"},
                           headers=intake.auth("operator"))
    assert r.status_code == 200 and intake.events("intake.case.evaluated")[0]["data"]["via"] == "operator"


def test_no_answer_in_the_window_is_recorded_as_not_evaluated_never_as_satisfied(intake):
    case = intake.submit()
    resolve(intake, case)
    assert expire_due(intake.rt, utcnow()) == 0  # still within the window
    assert expire_due(intake.rt, utcnow() + timedelta(days=8)) == 1
    [ev] = intake.events("intake.case.evaluated")
    assert ev["data"]["evaluated"] is False and ev["data"]["via"] == "timeout" and ev["data"]["satisfaction"] is None
    assert ev["correlation_id"] == f"evaluation-timeout-{case['id']}"  # no request caused it: its own story
    assert expire_due(intake.rt, utcnow() + timedelta(days=30)) == 0  # once only
    assert "not_evaluated" in [t["kind"] for t in intake.get(case["id"])["timeline"]]


def test_the_timeout_scan_never_overwrites_an_answer_already_given_for_the_handling(intake):
    case = intake.submit()
    resolve(intake, case)
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation",
                           json={"contacted": True, "solved": True, "satisfaction": "满意"},
                           headers=intake.auth("resident"))
    assert r.status_code == 200
    # the supervisor's check fails and the unit resolves the same work order again
    intake.deliver(CaseVerified(**work_order(case, 5), verifier_id="s", passed=False, note="现场仍有垃圾"))
    intake.deliver(CaseResolved(**work_order(case, 6), actor_id="w", outcome="解决到位", result_text="已再次清运"))
    assert intake.get(case["id"])["status"] == "resolved"
    assert expire_due(intake.rt, utcnow() + timedelta(days=8)) == 0
    assert [e["data"]["evaluated"] for e in intake.events("intake.case.evaluated")] == [True]


def test_the_timeout_scan_records_each_case_once_with_several_workers(pg_intake):
    for i in range(12):
        resolve(pg_intake, pg_intake.submit(description=f"第 {i} 号楼垃圾没人收"), wo=f"wo-{i}")
    later = utcnow() + timedelta(days=8)
    start = threading.Barrier(4)

    def scan(_):
        start.wait()
        return expire_due(pg_intake.rt, later, limit=5)

    with ThreadPoolExecutor(4) as ex:
        done = sum(ex.map(scan, range(4)))
    while True:
        n = expire_due(pg_intake.rt, later, limit=5)
        if n == 0:
            break
        done += n
    assert done == 12
    with pg_intake.rt.uow() as s:
        rows = s.scalars(select(Evaluation)).all()
    assert len(rows) == 12 and len({r.case_id for r in rows}) == 12
    assert all(r.evaluated is False and r.satisfaction is None for r in rows)
    assert len(pg_intake.events("intake.case.evaluated")) == 12


def test_reopen_within_the_window_starts_a_new_cycle_and_old_events_cannot_close_it(intake):
    case = intake.submit()
    resolve(intake, case)
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/reopen", json={"reason_code": "not_solved"},
                           headers=intake.auth("resident"))
    assert r.status_code == 200 and r.json()["status"] == "reopened"
    [ev] = intake.events("intake.case.reopened")
    assert ev["data"]["previous_unit_id"] == "unit-玉林北路社区第一网格" and ev["data"]["reason_code"] == "not_solved"
    # routing closes the old order, with a time before the reopen: it must not close the case again
    intake.deliver(CaseClosed(**{**work_order(case, 5), "at": utcnow() - timedelta(seconds=5)}, outcome="解决到位"))
    assert intake.get(case["id"])["status"] == "reopened"
    intake.deliver(dispatched(case, 6, "wo-1", minute=30))  # routing re-dispatches to the same unit
    assert intake.get(case["id"])["status"] == "dispatched"


def test_reopen_is_refused_outside_the_window_or_before_resolution(intake):
    case = intake.submit()
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/reopen", json={}, headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_reopen"
    resolve(intake, case)
    with intake.rt.uow() as s:
        s.get(Case, case["id"]).resolved_at = utcnow() - timedelta(days=16)
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/reopen", json={}, headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.reopen_window_passed"
    assert intake.events("intake.case.reopened") == []


def test_status_follows_mediation_and_ignores_its_stale_events(intake):
    case = intake.submit(category="dispute.neighbour", description="邻居占用公共走廊，协商不成")
    common = dict(dispute_id="d-1", dispute_no="TJ-2026-0001", case_id=case["id"])
    intake.deliver(DisputeApplied(**common, seq=1, at=at(1), dispute_type="neighbour", source="intake"))
    intake.deliver(DisputeSucceeded(**common, seq=5, at=at(5), agreement_id="a-1"))
    intake.deliver(DisputeAccepted(**common, seq=2, at=at(2), committee_id="c-1", deadline=at(59)))  # stale
    view = intake.get(case["id"])
    assert view["status"] == "mediation_succeeded" and view["status_label"] == "调解成功"
    assert [t["kind"] for t in view["timeline"]] == ["submitted", "referred", "mediation_applied",
                                                    "mediation_succeeded"]


def test_staff_refer_a_case_to_mediation(intake):
    case = intake.submit(category="property.service", description="物业和业主因为漏水维修吵起来了")
    intake.deliver(dispatched(case))  # the community's grid holds it
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/refer", params={"dispute_type": "property"},
                           headers=intake.auth("community_staff"))
    assert r.status_code == 200 and r.json()["status"] == "referred"
    [ref] = intake.events("intake.case.referred")
    assert ref["data"]["by_id"] == "u-community-staff-001" and ref["data"]["dispute_type"] == "property"
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/refer", headers=intake.auth("community_staff"))
    assert r.status_code == 409


def test_staff_raising_the_urgency_tell_routing_once(intake):
    case = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True)
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/urgency", json={"urgency": "特急", "reason": "燃气泄漏"},
                           headers=intake.auth("operator"))
    assert r.status_code == 200, r.text
    [event] = intake.events("intake.case.urgency_changed")
    assert event["data"]["urgency"] == "特急" and event["data"]["previous"] == "一般"
    intake.client.post(f"/intake/v1/cases/{case['id']}/urgency", json={"urgency": "特急"},
                       headers=intake.auth("operator"))
    assert len(intake.events("intake.case.urgency_changed")) == 1  # unchanged: nothing to tell


def _returned(case, seq, wo, unit, *, awaiting_designation):
    return CaseReturned(**work_order(case, seq, wo, unit), actor_id="s", reason="不属于本单位",
                        legal_basis="《城市管理职责清单》第 3 条", awaiting_designation=awaiting_designation)


def _awaiting(case, seq, wo, unit):
    return CaseAwaitingDesignation(**work_order(case, seq, wo, unit), dispatch_count=3,
                                   designating_unit_id="unit-玉林街道", designating_unit_name="玉林街道",
                                   designator_ids=["u-supervisor-001"], deadline=at(50))


def test_a_return_awaiting_designation_says_a_higher_level_designates_not_that_it_is_redispatched(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1, "wo-1", "武侯区城管局"))
    intake.deliver(_returned(case, 2, "wo-1", "武侯区城管局", awaiting_designation=True))
    view = intake.get(case["id"])
    assert view["status"] == "awaiting_designation" and view["status_label"] == "已退回，待上级指定承办单位"
    assert view["timeline"][-1]["text"] == "工单已退回，正在由上级指定承办单位"
    assert "重新派单" not in str(view)
    assert view["can"]["withdraw"] is True  # like a return: no unit holds it
    intake.deliver(_awaiting(case, 3, "wo-1", "武侯区城管局"))
    assert intake.get(case["id"])["status"] == "awaiting_designation"
    intake.deliver(CaseDesignated(**work_order(case, 1, "wo-2", "玉林街道", minute=10), designated_by="u-sup"))
    view = intake.get(case["id"])
    assert view["status"] == "dispatched" and view["unit_name"] == "玉林街道"
    # a plain return still says it is being re-dispatched
    other = intake.submit(user_id="u-resident-2")
    intake.deliver(dispatched(other, 1, "wo-3", "武侯区城管局"))
    intake.deliver(_returned(other, 2, "wo-3", "武侯区城管局", awaiting_designation=False))
    view = intake.get(other["id"], user_id="u-resident-2")
    assert view["status"] == "returned" and view["timeline"][-1]["text"] == "工单已退回，正在重新派单"


def test_a_return_told_without_the_flag_then_awaiting_designation_shows_the_wait_for_designation(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1, "wo-1", "武侯区城管局"))
    intake.deliver(_returned(case, 2, "wo-1", "武侯区城管局", awaiting_designation=False))
    intake.deliver(_awaiting(case, 3, "wo-1", "武侯区城管局"))
    view = intake.get(case["id"])
    assert view["status"] == "awaiting_designation" and view["timeline"][-1]["text"] == "正在由上级指定承办单位"


def test_evaluating_a_withdrawn_case_says_it_ended_without_a_handling_not_that_it_is_not_finished_yet(intake):
    case = intake.submit()
    h = intake.auth("resident")
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/withdraw", json={}, headers=h).status_code == 200
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation",
                           json={"contacted": True, "solved": True, "satisfaction": "满意"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.ended_without_handling", r.text
    assert "尚未" not in r.json()["error"]["message"]
    open_case = intake.submit(description="另一处垃圾桶满了，三天没人清运")  # not resolved yet: as before
    r = intake.client.post(f"/intake/v1/cases/{open_case['id']}/evaluation",
                           json={"contacted": True, "solved": True, "satisfaction": "满意"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_evaluate"
