"""The work order's life through the API: legal transitions, events with increasing seq, timeline rows."""

from datetime import timedelta

from sqlalchemy import select

from services.routing.models import RoutingCase, WorkOrder
from shared.db import utcnow

from .conftest import COMMUNITY1, DISTRICT, GRID1_CODE, STREET, URBAN


def test_the_whole_life_of_a_work_order(h):
    case_id = h.submit()
    [(env, dispatched)] = h.events()
    assert env.type == "routing.case.dispatched" and dispatched.unit_code == GRID1_CODE
    assert dispatched.sign_deadline is not None and dispatched.result_deadline > dispatched.sign_deadline
    order = h.lead(case_id)
    oid = order["id"]
    assert order["rule_id"] == "matter:小事" and order["rule_version"] == 1
    assert "小事" in order["rule"] and GRID1_CODE in order["rule"]

    assert h.post(f"/work-orders/{oid}/sign", "grid").json()["status"] == "signed"
    assert h.post(f"/work-orders/{oid}/contact", "grid", {"note": "已电话联系"}).json()["status"] == "in_progress"
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解决到位", "result_text": "已清运", "photos": ["https://x/1.jpg"]})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert h.post(f"/work-orders/{oid}/verify", "community", {"passed": True}).json()["status"] == "verified"
    assert h.post(f"/work-orders/{oid}/close", "street").json()["status"] == "closed"

    events = h.events()
    assert [e.type.rsplit(".", 1)[1] for e, _ in events] == ["signed", "contacted", "resolved", "verified", "closed"]
    seqs = [p.seq for _, p in events]
    assert seqs == sorted(seqs) and seqs[0] == dispatched.seq + 1 and len(set(seqs)) == 5
    assert all(not p.late for _, p in events[:3])
    resolved = events[2][1]
    assert resolved.outcome == "解决到位" and resolved.photo_count == 1
    detail = h.get(oid)
    assert [t["kind"] for t in detail["timeline"]] == ["dispatched", "signed", "contacted", "resolved", "verified",
                                                       "closed"]
    assert [t["seq"] for t in detail["timeline"]] == [1, 2, 3, 4, 5, 6]
    assert all(c["stopped_at"] for c in detail["clocks"])


def test_an_illegal_transition_is_refused_and_changes_nothing(h):
    oid = h.lead(h.submit())["id"]
    h.events()
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解决到位", "result_text": "已清运"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "workorder.illegal_transition"
    assert r.json()["error"]["message"] == "工单当前状态不允许此操作"
    assert h.post(f"/work-orders/{oid}/close", "street", lang="en").json()["error"]["message"] == \
        "The work order's status does not allow this"
    assert h.get(oid)["status"] == "dispatched" and h.events() == []


def test_only_the_units_handlers_may_sign_and_bad_input_names_the_field(h):
    oid = h.lead(h.submit())["id"]
    r = h.post(f"/work-orders/{oid}/sign", "other_grid")
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.not_yours"
    h.post(f"/work-orders/{oid}/sign", "grid")
    h.post(f"/work-orders/{oid}/contact", "grid")
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "办好了", "result_text": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "outcome"
    assert h.get(oid)["status"] == "in_progress"


def test_responsibility_list_sends_water_to_the_water_company_and_records_the_rule(h):
    case_id = h.submit(category="utility.water", matter_class="大事", urgency="紧急")
    order = h.lead(case_id)
    assert order["unit_code"] == "510107900006000"
    assert order["rule_id"] == "rule:water" and "职责清单V1·规则water" in order["rule"]
    assert order["clock_profile"] == "紧急"


def test_lead_and_assisting_units_and_the_lead_event_comes_last(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    events = [p for _, p in h.events()]
    assert [(p.role, p.unit_code) for p in events] == [("assist", "510107900004000"), ("lead", "510107900002000")]
    assert events[0].requester_id is None and events[1].requester_id == "u-resident-1"
    assert events[0].seq < events[1].seq
    orders = h.orders(case_id)
    lead = next(o for o in orders if o["role"] == "lead")
    assert all(o["lead_id"] == lead["id"] for o in orders if o["role"] == "assist")


def test_the_three_matter_classes(h):
    # 大事 with no department in the list: the street takes it (and may whistle).
    big = h.lead(h.submit(category="safety.other", matter_class="大事"))
    assert big["unit_code"] == STREET and big["rule_id"] == "matter:大事"
    # 私事: guidance from the community.
    private = h.lead(h.submit(category="property.fee", matter_class="私事"))
    assert private["unit_code"] == COMMUNITY1 and "引导" in private["rule"]


def test_three_returns_then_a_supervisor_designates_an_owner(h):
    case_id = h.submit()
    h.events()
    path = []
    for who in ("grid", "community", "street"):
        order = h.lead(case_id)
        path.append(order["unit_code"])
        body = {"reason": "不属本单位职责", "legal_basis": "职责清单第3条"}
        r = h.post(f"/work-orders/{order['id']}/return", who, body)
        assert r.status_code == 200, r.text
    assert path == [GRID1_CODE, COMMUNITY1, STREET]  # each re-dispatch skips the units that returned it
    kinds = [e.type.rsplit(".", 1)[1] for e, _ in h.events()]
    assert kinds == ["returned", "dispatched", "returned", "dispatched", "returned"]
    with h.rt.uow() as session:
        rc = session.get(RoutingCase, case_id)
        assert rc.state == "awaiting_designation" and rc.dispatch_count == 3

    r = h.post(f"/cases/{case_id}/designate", "street", {"unit_code": URBAN, "reason": "越权指定"})
    assert r.status_code == 403
    r = h.post(f"/cases/{case_id}/designate", "supervisor", {"unit_code": URBAN, "reason": "占道问题由城管负责"})
    assert r.status_code == 201 and r.json()["designated"] and r.json()["unit_code"] == URBAN
    (e1, designated), (e2, dispatched) = h.events()
    assert e1.type == "routing.case.designated" and e2.type == "routing.case.dispatched"
    assert dispatched.seq > designated.seq and dispatched.dispatch_count == 4
    r = h.post(f"/work-orders/{r.json()['id']}/return", "urban", {"reason": "不属本单位", "legal_basis": "无明确依据"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "workorder.designated_cannot_return"
    r = h.post(f"/cases/{case_id}/designate", "supervisor", {"unit_code": URBAN, "reason": "再次指定"})
    assert r.json()["error"]["code"] == "case.not_awaiting_designation"


def test_a_return_after_its_window_is_refused(h):
    oid = h.lead(h.submit())["id"]
    with h.rt.uow() as session:
        session.get(WorkOrder, oid).return_deadline = utcnow() - timedelta(minutes=1)
    r = h.post(f"/work-orders/{oid}/return", "grid", {"reason": "不属本单位", "legal_basis": "无明确依据"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "workorder.return_window_passed"
    assert h.get(oid)["status"] == "dispatched"


def test_reassignment_keeps_history(h):
    case_id = h.submit()
    oid = h.lead(case_id)["id"]
    r = h.post(f"/work-orders/{oid}/reassign", "street", {"unit_code": URBAN, "reason": "涉及占道经营"})
    assert r.status_code == 200 and r.json()["unit_code"] == URBAN
    statuses = {o["unit_code"]: o["status"] for o in h.orders(case_id)}
    assert statuses == {GRID1_CODE: "reassigned", URBAN: "dispatched"}


def test_withdrawn_cancels_and_reopened_goes_back_to_the_same_unit(h):
    from datetime import UTC, datetime

    from shared.events.intake import CaseEvaluated, CaseReopened, CaseWithdrawn

    now = datetime.now(UTC)
    gone = h.submit()
    h.feed(CaseWithdrawn(case_id=gone, case_no="x", at=now))
    assert h.lead(gone)["status"] == "cancelled"

    case_id = h.submit()
    oid = h.lead(case_id)["id"]
    h.post(f"/work-orders/{oid}/sign", "grid")
    h.post(f"/work-orders/{oid}/contact", "grid")
    h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解释到位", "result_text": "已解释"})
    h.events()
    h.feed(CaseEvaluated(case_id=case_id, case_no="x", work_order_id=oid, solved=False, satisfaction="不满意", at=now))
    assert h.get(oid)["status"] == "closed"
    h.feed(CaseReopened(case_id=case_id, case_no="x", at=now))
    new = h.lead(case_id)
    assert new["id"] != oid and new["unit_code"] == GRID1_CODE and new["rule_id"] == "reopen"
    old = h.get(oid)
    assert old["evaluation"]["solved"] is False
    kinds = [e.type for e, _ in h.events()]
    assert kinds == ["routing.case.closed", "routing.case.dispatched"]


def test_extension_needs_a_supervisor_and_moves_the_deadline(h):
    oid = h.lead(h.submit())["id"]
    h.post(f"/work-orders/{oid}/sign", "grid")
    before = h.get(oid)["deadlines"]["result"]
    r = h.post(f"/work-orders/{oid}/extensions", "grid", {"working_days": 3, "reason": "需协调物业"})
    assert r.status_code == 201
    assert h.post(f"/work-orders/{oid}/extensions", "grid", {"working_days": 1, "reason": "再来"}).status_code == 409
    ext = r.json()["id"]
    assert h.post(f"/extensions/{ext}/decision", "grid", {"approve": True}).status_code == 403
    h.events()
    r = h.post(f"/extensions/{ext}/decision", "supervisor", {"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    after = h.get(oid)["deadlines"]["result"]
    assert after > before
    [(env, extended)] = h.events()
    assert env.type == "routing.case.extended" and extended.new_result_deadline.isoformat()[:16] == after[:16]


def test_supervisors_see_overdue_work_in_their_subtree_and_supervise(h):
    oid = h.lead(h.submit())["id"]
    with h.rt.uow() as session:
        session.get(WorkOrder, oid).sign_deadline = utcnow() - timedelta(minutes=5)
    r = h.client.get("/routing/v1/supervision/overdue", headers=h.headers("supervisor"))
    assert [o["id"] for o in r.json()] == [oid]
    assert h.client.get("/routing/v1/supervision/overdue", headers=h.headers("grid")).status_code == 403
    h.events()
    r = h.post(f"/work-orders/{oid}/supervise", "supervisor", {"note": "请今日内签收"})
    assert r.status_code == 200
    [(env, supervised)] = h.events()
    assert env.type == "routing.case.supervised" and supervised.assignee_id == "u-grid-worker-001001"
    assert h.post(f"/work-orders/{oid}/supervise", "urban", {"note": "越权"}).status_code == 403


def test_a_new_responsibility_version_is_validated_and_then_used(h):
    bad = {"rules": [{"id": "x", "category": "env.garbage", "unit_code": "999"}], "matter_classes": {}}
    r = h.post("/responsibility", "supervisor", {"document": bad})
    assert r.status_code == 422 and r.json()["error"]["code"] == "responsibility.invalid"
    assert "999" in r.json()["error"]["detail"] and "reason" in r.json()["error"]["detail"]
    good = {"rules": [{"id": "garbage", "category": "env.garbage", "area": STREET, "unit_code": URBAN,
                       "reason": "街道环卫外包由城管统一监管"}], "matter_classes": {}}
    assert h.post("/responsibility", "grid", {"document": good}).status_code == 403
    r = h.post("/responsibility", "supervisor", {"document": good, "note": "调整"})
    assert r.status_code == 201 and r.json()["version"] == 2
    order = h.lead(h.submit())
    assert order["unit_code"] == URBAN and order["rule_version"] == 2 and order["rule_id"] == "rule:garbage"


def test_confidential_cases_hide_the_requester_from_handlers(h):
    order = h.lead(h.submit(confidential=True))
    assert order["confidential"] and order["requester_id"] is None


def test_a_confidential_requesters_own_acts_are_anonymous_in_the_work_order_timeline(h):
    from datetime import UTC, datetime

    from shared.events.intake import CaseWithdrawn

    case_id = h.submit(confidential=True)
    order = h.lead(case_id)
    h.feed(CaseWithdrawn(case_id=case_id, case_no="x", by_id="u-resident-1", at=datetime.now(UTC)))
    actors = [t["actor_id"] for t in h.get(order["id"])["timeline"]]
    assert "u-resident-1" not in actors


def test_every_district_point_outside_grids_uses_the_area_rule(h):
    order = h.lead(h.submit(matter_class=None, point=(104.038, 30.622)))
    assert order["unit_code"] == DISTRICT and order["rule_id"] == "area"
    with h.rt.uow() as session:
        assert session.scalars(select(WorkOrder.period)).first() is not None
