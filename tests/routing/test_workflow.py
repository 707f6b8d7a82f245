"""The work order's life through the API: legal transitions, events with increasing seq, timeline rows."""

from datetime import timedelta

import pytest

from services.routing.models import RoutingCase, WorkOrder
from shared.auth import issue_token
from shared.db import utcnow

from .conftest import COMMUNITY1, GRID1_CODE, HOUSING, STREET, URBAN

PHOTO = "3f1c9a52-7d4e-4b8a-9f0e-2c6d1b7a5e10"  # an upload's id at intake (POST /intake/v1/attachments)


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
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解决到位", "result_text": "已清运",
                                                       "photo_ids": [PHOTO.upper()]})
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
    assert resolved.photo_ids == [PHOTO] and resolved.actor_id == r.json()["assignee_id"]  # as intake writes ids
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
    # Another grid's order is out of scope: as if it did not exist (issue 11: was 403 not_yours).
    r = h.post(f"/work-orders/{oid}/sign", "other_grid")
    assert r.status_code == 404 and r.json()["error"]["code"] == "workorder.not_found"
    r = h.post(f"/work-orders/{oid}/sign", "community")  # reads it (above the grid), does not handle it
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.not_yours"
    h.post(f"/work-orders/{oid}/sign", "grid")
    h.post(f"/work-orders/{oid}/contact", "grid")
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "办好了", "result_text": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "outcome"
    assert h.get(oid)["status"] == "in_progress"


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
    assert kinds == ["returned", "dispatched", "returned", "dispatched", "returned", "awaiting_designation"]
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


def test_reassigning_an_order_to_the_unit_that_holds_it_is_refused_and_changes_nothing(h):
    case_id = h.submit()
    before = h.lead(case_id)
    r = h.post(f"/work-orders/{before['id']}/reassign", "street", {"unit_code": GRID1_CODE, "reason": "改派到同一单位"})
    assert r.status_code == 409, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("workorder.same_unit", "unit_code")
    assert [(o["id"], o["status"], o["deadlines"]) for o in h.orders(case_id)] == [
        (before["id"], "dispatched", before["deadlines"])]


def test_reassigning_an_assisting_order_does_not_make_a_second_lead(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    lead = h.lead(case_id)
    assist = next(o for o in h.orders(case_id) if o["role"] == "assist")
    r = h.post(f"/work-orders/{assist['id']}/reassign", "supervisor", {"unit_code": URBAN, "reason": "改由城管协办"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "assist" and r.json()["lead_id"] == lead["id"]
    assert h.lead(case_id)["id"] == lead["id"]
    open_leads = [o for o in h.orders(case_id) if o["role"] == "lead" and o["status"] == "dispatched"]
    assert len(open_leads) == 1
    [(env, dispatched)] = h.events()[-1:]
    assert dispatched.role == "assist" and dispatched.requester_id is None
    with h.rt.uow() as session:  # another assisting unit is not another dispatch of the case
        assert session.get(RoutingCase, case_id).dispatch_count == 1


def test_reassigning_a_lead_takes_its_assisting_orders_along(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    lead = h.lead(case_id)
    r = h.post(f"/work-orders/{lead['id']}/reassign", "supervisor", {"unit_code": URBAN, "reason": "改由城管主办"})
    new_id = r.json()["id"]
    assists = [o for o in h.orders(case_id) if o["role"] == "assist"]
    assert [a["lead_id"] for a in assists] == [new_id]
    with h.rt.uow() as session:
        assert session.get(RoutingCase, case_id).dispatch_count == 2


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


def test_a_supervisor_cannot_approve_their_own_extension(h):
    oid = h.lead(h.submit(matter_class=None, point=(104.038, 30.622)))["id"]  # lands on the district
    assert h.post(f"/work-orders/{oid}/sign", "supervisor").status_code == 200
    r = h.post(f"/work-orders/{oid}/extensions", "supervisor", {"working_days": 3, "reason": "需协调多部门"})
    assert r.status_code == 201
    before = h.get(oid)["deadlines"]["result"]
    r = h.post(f"/extensions/{r.json()['id']}/decision", "supervisor", {"approve": True})
    assert r.status_code == 403 and r.json()["error"]["code"] == "extension.self_approval"
    assert h.get(oid)["deadlines"]["result"] == before


def test_an_assisting_order_has_no_result_clock_to_extend(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    assist = next(o for o in h.orders(case_id) if o["role"] == "assist")
    housing = {"Authorization": "Bearer " + issue_token(h.rt.settings, "u-department-handler-900004",
                                                        "department_handler", HOUSING)}
    assert h.client.post(f"/routing/v1/work-orders/{assist['id']}/sign", headers=housing).status_code == 200
    r = h.client.post(f"/routing/v1/work-orders/{assist['id']}/extensions",
                      json={"working_days": 2, "reason": "需配合"}, headers=housing)
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension.no_deadline"
    assert r.json()["error"]["field"] == "role"
    assert h.get(assist["id"])["extensions"] == []


def test_the_dispatched_event_says_where_the_order_and_the_case_sit_in_the_organisation(h):
    h.submit()
    [(_, dispatched)] = h.events()
    assert dispatched.unit_path == "/510107000000000/510107001000000/510107001001000/510107001001001/"
    # The finest area holding the case (its grid), no longer only its street (review of issue 11, 15).
    assert dispatched.area_path == "/510107000000000/510107001000000/510107001001000/510107001001001/"


def test_result_photos_are_upload_ids_and_anything_else_is_refused_with_the_field(h):
    """Issue 12: a result photo was any string ("not-a-photo", a URL nobody can open); now it is the id of an
    upload to intake, checked in form here (intake takes only the resolver's own free uploads)."""
    oid = h.lead(h.submit())["id"]
    h.post(f"/work-orders/{oid}/sign", "grid")
    h.post(f"/work-orders/{oid}/contact", "grid")
    h.events()
    base = {"outcome": "解决到位", "result_text": "已清运"}
    for photos, code, field in ((["not-a-photo"], "workorder.photo_invalid", "photo_ids.0"),
                                ([PHOTO, "https://x/1.jpg"], "workorder.photo_invalid", "photo_ids.1"),
                                ([PHOTO, PHOTO.upper()], "workorder.photo_duplicate", "photo_ids"),
                                ([PHOTO] * 10, "validation.too_long", "photo_ids"),
                                ([5], "validation.bad_type", "photo_ids.0")):
        r = h.post(f"/work-orders/{oid}/resolve", "grid", {**base, "photo_ids": photos})
        assert r.status_code == 422, (photos, r.text)
        error = r.json()["error"]
        assert (error["code"], error["field"]) == (code, field) and error["message"], photos
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {**base, "photos": ["https://x/1.jpg"]})  # the old field
    assert r.status_code == 422 and r.json()["error"]["field"] == "photos"
    assert r.json()["error"]["code"] == "validation.extra_field"
    assert h.get(oid)["status"] == "in_progress" and h.events() == []  # refused: nothing changed
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {**base, "photo_ids": [PHOTO]})
    assert r.status_code == 200 and r.json()["photo_ids"] == [PHOTO]
    [(_, resolved)] = h.events()
    assert resolved.photo_ids == [PHOTO] and resolved.photo_count == 1


def test_a_workers_list_shows_her_open_orders_first_a_page_at_a_time_and_never_drops_one(h):
    oldest_open = h.lead(h.submit())["id"]
    finished = [h.lead(h.submit())["id"] for _ in range(3)]
    for oid in finished:  # newer, and no longer hers to act on
        r = h.post(f"/work-orders/{oid}/return", "grid", {"reason": "不属本网格职责", "legal_basis": "职责清单"})
        assert r.status_code == 200, r.text
    newest_open = h.lead(h.submit())["id"]

    def mine(**params) -> dict:
        r = h.client.get("/routing/v1/work-orders/mine", params=params, headers=h.headers("grid"))
        assert r.status_code == 200, r.text
        return r.json()

    by_default = mine()
    assert [o["id"] for o in by_default["items"]] == [newest_open, oldest_open] and by_default["total"] == 2
    first = mine(page_size=1)
    assert [o["id"] for o in first["items"]] == [newest_open] and (first["total"], first["page_size"]) == (2, 1)
    assert [o["id"] for o in mine(page_size=1, page=2)["items"]] == [oldest_open]
    everything = mine(state="all", page_size=2)
    assert [o["id"] for o in everything["items"]] == [newest_open, oldest_open] and everything["total"] == 5
    closed = mine(state="finished")
    assert {o["id"] for o in closed["items"]} == set(finished) and {o["status"] for o in closed["items"]} == {
        "returned"}
    r = h.client.get("/routing/v1/work-orders/mine", params={"state": "closed"}, headers=h.headers("grid"))
    assert r.status_code == 422


@pytest.mark.parametrize("blank", ["   ", "\u3000\u200b ", "\x00\x00", "办理\x00完毕"])
def test_a_required_text_of_blanks_or_control_characters_is_refused_and_changes_nothing(h, blank):
    code = "validation.control_character" if "\x00" in blank else "validation.blank"
    oid = h.lead(h.submit())["id"]
    steps = [
        ("return", {"reason": blank, "legal_basis": "职责清单"}, "reason"),
        ("return", {"reason": "不属本网格职责", "legal_basis": blank}, "legal_basis"),
        ("extensions", {"working_days": 3, "reason": blank}, "reason"),
    ]
    for step, body, field in steps:
        r = h.post(f"/work-orders/{oid}/{step}", "grid", body)
        assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field), r.text
    for step, body, field in [("supervise", {"note": blank}, "note"), ("exclusion", {"reason": blank}, "reason"),
                              ("reassign", {"unit_code": URBAN, "reason": blank}, "reason")]:
        r = h.post(f"/work-orders/{oid}/{step}", "supervisor", body)
        assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field), r.text
    assert h.post(f"/work-orders/{oid}/sign", "grid").status_code == 200
    assert h.post(f"/work-orders/{oid}/contact", "grid", {"note": blank}).status_code == 422
    assert h.post(f"/work-orders/{oid}/contact", "grid").status_code == 200
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解决到位", "result_text": blank})
    assert r.status_code == 422 and r.json()["error"]["field"] == "result_text"
    order = h.get(oid)
    assert (order["status"], order["result_text"], order["excluded"]) == ("in_progress", None, False)
    assert [t["kind"] for t in order["timeline"]] == ["dispatched", "signed", "contacted"]


def test_an_answer_to_the_resident_of_blanks_is_refused(h):
    oid = h.lead(h.submit(appeal_type="建议"))["id"]
    r = h.post(f"/work-orders/{oid}/answer", "grid", {"answer_text": "  \u200b", "adopted": True})
    assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (
        "validation.blank", "answer_text")
    assert h.get(oid)["status"] == "dispatched"


def test_a_yes_or_a_one_is_no_boolean_and_a_true_is_no_number(h):
    oid = h.lead(h.submit())["id"]
    assert h.post(f"/work-orders/{oid}/sign", "grid").status_code == 200
    for body in ({"working_days": True, "reason": "需要协调物业"}, {"working_days": "3", "reason": "需要协调物业"}):
        r = h.post(f"/work-orders/{oid}/extensions", "grid", body)
        assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (
            "validation.bad_type", "working_days"), r.text
    ext = h.post(f"/work-orders/{oid}/extensions", "grid", {"working_days": 3, "reason": "需要协调物业"}).json()
    for approve in ("yes", 1, "true"):
        r = h.post(f"/extensions/{ext['id']}/decision", "supervisor", {"approve": approve})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation.bad_type", r.text
    assert h.get(oid)["extensions"][0]["status"] == "pending"
    r = h.client.put("/routing/v1/staff/u-grid-worker-001001/duty", json={"on_duty": 0}, headers=h.headers("grid"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "on_duty"
    r = h.client.post("/routing/v1/calendar/notices", json={"year": True, "title": "x", "holidays": []},
                      headers=h.headers("admin"))
    assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (
        "validation.bad_type", "year"), r.text


def test_a_refused_transition_says_why_in_chinese_not_in_english(h):
    oid = h.lead(h.submit())["id"]
    assert h.post(f"/work-orders/{oid}/sign", "grid").status_code == 200
    r = h.post(f"/work-orders/{oid}/sign", "grid")
    assert r.status_code == 409 and r.json()["error"] == {
        "code": "workorder.illegal_transition", "message": "工单当前状态不允许此操作", "field": "status",
        "detail": "工单状态为已签收，不能签收"}
