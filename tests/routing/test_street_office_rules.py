"""Issue 12, "The rules a street office lives by" (routing's items): a requester's denial of contact in
响应率, 指定 that reaches someone who can designate, 大事 returns going up, rankings of units with
work, an unanswered 吹哨 that is not silent, capped extensions, and praise, suggestions and 私事 as
what they are. Each test failed on the code before the issue."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.routing import dispatch, scores
from services.routing.clocks import scan
from services.routing.locator import cached
from services.routing.models import Clock, RoutingCase, Whistle, WorkOrder
from services.routing.responsibility import decide
from shared.auth import issue_token
from shared.config import local_zone
from shared.db import utcnow
from shared.events.intake import CaseEvaluated, CaseSubmitted
from shared.ids import unit_id

from .conftest import COMMUNITY1, DISTRICT, GRID1, GRID1_CODE, POLICE, STREET, URBAN, scanned

RETURN = {"reason": "不属本单位职责", "legal_basis": "职责清单"}


def token(h, uid: str, role: str, unit: str) -> dict:
    return {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}


def this_month() -> str:
    return datetime.now(local_zone()).strftime("%Y-%m")


def handle_to_the_end(h, oid: str, who: str = "grid") -> None:
    resolve = {"outcome": "解决到位", "result_text": "已清运"}
    for step, body in (("sign", None), ("contact", None), ("resolve", resolve)):
        assert h.post(f"/work-orders/{oid}/{step}", who, body).status_code == 200


def returned_three_times(h) -> str:
    case_id = h.submit()
    for who in ("grid", "community", "street"):
        assert h.post(f"/work-orders/{h.lead(case_id)['id']}/return", who, RETURN).status_code == 200
    return case_id


# ----------------------------------------------------------------------------- 3. 响应率 and the requester


def test_a_requesters_denial_of_contact_counts_against_the_response_rate_and_shows_on_the_order(h):
    denied, confirmed = h.submit(), h.submit()
    for case_id, contacted in ((denied, False), (confirmed, True)):
        oid = h.lead(case_id)["id"]
        handle_to_the_end(h, oid)  # signed and contacted in time, as far as the unit recorded
        h.feed(CaseEvaluated(case_id=case_id, case_no="x", work_order_id=oid, contacted=contacted, solved=True,
                             satisfaction="满意", at=datetime.now(UTC)))
    row = next(r for r in h.client.get("/routing/v1/scores", params={"period": this_month()},
                                       headers=h.headers("supervisor")).json()["rows"] if r["code"] == GRID1_CODE)
    assert row["counts"]["dispatched"] == 2 and row["counts"]["responded"] == 1
    assert row["counts"]["contact_denied"] == 1 and row["rates"]["response"] == 50.0
    order = h.get(h.lead(denied)["id"])
    assert order["evaluation"]["contact_denied"] is True
    assert [t["detail"]["contacted"] for t in order["timeline"] if t["kind"] == "evaluated"] == [False]
    assert h.get(h.lead(confirmed)["id"])["evaluation"]["contact_denied"] is False


# ----------------------------------------------------------------------------- 4. 指定


def test_the_last_return_reaches_the_supervisors_who_may_designate_not_community_staff(h):
    h.events()
    case_id = returned_three_times(h)
    events = h.events()
    returned = [p for e, p in events if e.type == "routing.case.returned"]
    assert [p.awaiting_designation for p in returned] == [False, False, True]
    [waiting] = [p for e, p in events if e.type == "routing.case.awaiting_designation"]
    # The street's supervisor (levels.json: supervisors designate; the nearest above the case).
    assert waiting.designator_ids == ["u-supervisor-2"] and waiting.designating_unit_name == "玉林街道"
    assert waiting.dispatch_count == 3 and waiting.deadline > waiting.at
    assert waiting.seq > returned[-1].seq
    # Community staff, told to re-dispatch before, may not designate; the supervisor named may.
    body = {"unit_code": URBAN, "reason": "占道问题由城管负责"}
    assert h.post(f"/cases/{case_id}/designate", "community", body).status_code == 403
    r = h.client.post(f"/routing/v1/cases/{case_id}/designate", json=body,
                      headers=token(h, "u-supervisor-2", "supervisor", STREET))
    assert r.status_code == 201, r.text


def test_cases_waiting_for_designation_are_listed_for_whoever_may_designate_them(h):
    case_id = returned_three_times(h)
    [row] = h.client.get("/routing/v1/designations", headers=h.headers("supervisor")).json()
    assert row["case_id"] == case_id and row["dispatch_count"] == 3 and row["overdue"] is False
    assert [r["unit_name"] for r in row["returns"]] == ["玉林北路社区第一网格", "玉林北路社区", "玉林街道"]
    assert row["returns"][0]["reason"] == "不属本单位职责" and row["deadline"] is not None
    street_supervisor = token(h, "u-supervisor-2", "supervisor", STREET)
    assert [r["case_id"] for r in h.client.get("/routing/v1/designations", headers=street_supervisor).json()] == [
        case_id]
    elsewhere = token(h, "u-supervisor-x", "supervisor", "510107001002000")  # another community's
    assert h.client.get("/routing/v1/designations", headers=elsewhere).json() == []
    assert h.client.get("/routing/v1/designations", headers=h.headers("community")).status_code == 403
    h.post(f"/cases/{case_id}/designate", "supervisor", {"unit_code": URBAN, "reason": "由城管负责"})
    assert h.client.get("/routing/v1/designations", headers=h.headers("supervisor")).json() == []


def test_a_designation_not_made_in_time_is_overdue_and_announced_again(h):
    case_id = returned_three_times(h)
    h.events()
    fired = scanned(h, utcnow() + timedelta(days=30))
    [late] = [p for p in fired if p.event_type == "routing.case.designation_overdue"]
    assert late.case_id == case_id and late.designator_ids == ["u-supervisor-2"]
    assert scanned(h, utcnow() + timedelta(days=31)) == []  # once
    with h.rt.uow() as session:  # the clock passed in real time too
        rc = session.get(RoutingCase, case_id)
        clock = session.scalars(select(Clock).where(Clock.work_order_id == rc.lead_work_order_id,
                                                    Clock.kind == "designate")).one()
        clock.deadline = utcnow() - timedelta(minutes=1)
        returned_id = rc.lead_work_order_id
    rows = h.client.get("/routing/v1/supervision/overdue", headers=h.headers("supervisor")).json()
    [row] = [r for r in rows if r["case_id"] == case_id]
    assert row["id"] == returned_id and row["overdue"]["clocks"] == ["designation"]
    street = h.client.get("/routing/v1/supervision/overdue", headers=h.headers("street")).json()
    assert case_id in [r["case_id"] for r in street]
    assert h.post(f"/cases/{case_id}/designate", "supervisor",
                  {"unit_code": URBAN, "reason": "由城管负责"}).status_code == 201
    rows = h.client.get("/routing/v1/supervision/overdue", headers=h.headers("supervisor")).json()
    assert case_id not in [r["case_id"] for r in rows if "designation" in r["overdue"]["clocks"]]


# ----------------------------------------------------------------------------- 5. a 大事 goes up


def test_a_major_matter_returned_by_its_department_and_its_street_goes_up_never_down_to_a_grid(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    path = []
    for who in (("u-department-handler-900002", "department_handler", POLICE),
                ("u-street-dispatcher-1", "street_dispatcher", STREET),
                ("u-supervisor-1", "supervisor", DISTRICT)):
        lead = h.lead(case_id)
        path.append(lead["unit_code"])
        r = h.client.post(f"/routing/v1/work-orders/{lead['id']}/return", json=RETURN, headers=token(h, *who))
        assert r.status_code == 200, r.text
    assert path == [POLICE, STREET, DISTRICT]  # 群租 used to land on the grid worker after the street
    assert not [o for o in h.orders(case_id) if o["unit_code"] in (GRID1_CODE, COMMUNITY1)]
    with h.rt.uow() as session:
        assert session.get(RoutingCase, case_id).state == "awaiting_designation"
        # With more dispatches allowed, nobody is left once the district returned it: 指定, not a grid.
        locator = cached(h.rt, session)
        ids = {unit_id(POLICE), unit_id(STREET)}
        assert decide(session, locator, category="safety.group_rental", matter_class="大事", lat=GRID1[1],
                      lon=GRID1[0], excluded=ids).unit.code == DISTRICT
        assert decide(session, locator, category="safety.group_rental", matter_class="大事", lat=GRID1[1],
                      lon=GRID1[0], excluded=ids | {unit_id(DISTRICT)}) is None


def returned_major_matter(h) -> str:
    """A 大事 returned by its department, its street and the district: it waits for 指定."""
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    for who in (("u-department-handler-900002", "department_handler", POLICE),
                ("u-street-dispatcher-1", "street_dispatcher", STREET),
                ("u-supervisor-1", "supervisor", DISTRICT)):
        r = h.client.post(f"/routing/v1/work-orders/{h.lead(case_id)['id']}/return", json=RETURN,
                          headers=token(h, *who))
        assert r.status_code == 200, r.text
    return case_id


def test_a_returned_major_matter_waits_for_the_designating_levels_supervisors_not_the_streets(h):
    h.events()
    case_id = returned_major_matter(h)
    [waiting] = [p for e, p in h.events() if e.type == "routing.case.awaiting_designation"]
    assert waiting.case_id == case_id
    # levels.json designating_level: the district's supervisors, not the street's whose street returned it.
    assert waiting.designator_ids == ["u-supervisor-1"] and waiting.designating_unit_id == unit_id(DISTRICT)
    fired = scanned(h, utcnow() + timedelta(days=30))
    [late] = [p for p in fired if p.event_type == "routing.case.designation_overdue"]
    assert late.designator_ids == ["u-supervisor-1"]


def test_a_major_matter_cannot_be_designated_down_to_a_community_or_grid(h):
    case_id = returned_major_matter(h)
    for code in (GRID1_CODE, COMMUNITY1):
        for who in (token(h, "u-supervisor-2", "supervisor", STREET), h.headers("supervisor")):
            r = h.client.post(f"/routing/v1/cases/{case_id}/designate", json={"unit_code": code, "reason": "网格处理"},
                              headers=who)
            assert r.status_code == 422 and r.json()["error"] == {
                "code": "designation.major_below_street", "field": "unit_code",
                "message": "大事只能指定给职能部门或街道及以上层级，不能指定给社区或网格"}
    with h.rt.uow() as session:
        assert session.get(RoutingCase, case_id).state == "awaiting_designation"
    # A department, or a government level, may own it.
    r = h.post(f"/cases/{case_id}/designate", "supervisor", {"unit_code": POLICE, "reason": "群租房由公安负责"})
    assert r.status_code == 201, r.text
    # A 小事 may still be designated to a grid.
    small = returned_three_times(h)
    assert h.post(f"/cases/{small}/designate", "supervisor",
                  {"unit_code": GRID1_CODE, "reason": "网格处理"}).status_code == 201


# ----------------------------------------------------------------------------- 7. rankings


def test_a_unit_below_the_minimum_of_scored_orders_is_listed_but_not_ranked(h):
    t = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)
    with h.rt.uow() as s:
        for late in (False, False, False, False, True):  # five orders: the minimum (scoring.json)
            s.add(WorkOrder(id=str(uuid.uuid4()), case_id=str(uuid.uuid4()), case_no="2026-000001",
                            unit_id=unit_id(URBAN), category="facility.road", urgency="一般", role="lead",
                            status="closed", seq=1, rule="测试", period="2026-10", created_at=t, updated_at=t,
                            sign_late=False, contact_late=late, resolved_at=t, result_late=False))
        # The police did no work this month and answered one whistle in time.
        s.add(Whistle(work_order_id="wo-1", department_unit_id=unit_id(POLICE), called_by="u-street-dispatcher-1",
                      called_at=t, deadline=t + timedelta(minutes=30), reported_at=t + timedelta(minutes=5),
                      late=False))
    body = h.client.get("/routing/v1/rankings", params={"period": "2026-10", "level": "department"},
                        headers=h.headers("supervisor")).json()
    assert body["min_scored_orders"] == 5
    rows = {r["code"]: r for r in body["rows"]}
    assert (rows[URBAN]["rank"], rows[URBAN]["ranked"]) == (1, True)
    police = rows[POLICE]
    assert (police["rank"], police["ranked"]) == (None, False)  # it was ranked first with composite 100
    assert police["counts"]["dispatched"] == 0
    # No denominator, no data: never 100 %.
    assert police["rates"]["response"] is None and police["rates"]["resolution"] is None
    assert [r["code"] for r in body["rows"]].index(URBAN) < [r["code"] for r in body["rows"]].index(POLICE)


# ----------------------------------------------------------------------------- 8. an unanswered 吹哨


def test_an_unanswered_whistle_is_announced_and_on_the_overdue_list_naming_the_department(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]  # lands on the street
    h.post(f"/work-orders/{oid}/sign", "street")
    assert h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN, POLICE]}).status_code == 200
    assert h.post(f"/work-orders/{oid}/report", "police").status_code == 200  # the police came in time
    h.events()
    fired = [p for p in scanned(h, utcnow() + timedelta(minutes=31)) if p.event_type == "routing.case.report_overdue"]
    [late] = fired  # the urban management office only
    assert late.department_unit_id == unit_id(URBAN) and late.department_code == URBAN
    assert late.department_name == "武侯区城市管理和综合执法局" and late.work_order_id == oid
    assert late.street_unit_id == unit_id(STREET) and late.street_supervisor_ids == ["u-supervisor-2"]
    assert late.called_by == "u-street-dispatcher-1" and late.deadline < late.at
    assert scanned(h, utcnow() + timedelta(minutes=40)) == []  # once

    with h.rt.uow() as session:  # the report deadline passed in real time too
        for w in session.scalars(select(Whistle).where(Whistle.work_order_id == oid)):
            w.deadline = utcnow() - timedelta(minutes=1)
    rows = h.client.get("/routing/v1/supervision/overdue", headers=h.headers("street")).json()
    [row] = [r for r in rows if r["id"] == oid]
    assert row["overdue"]["clocks"] == ["report"]
    assert [r["department_name"] for r in row["overdue"]["reports"]] == ["武侯区城市管理和综合执法局"]

    detail = h.get(oid, who="street")
    both = ["武侯区城市管理和综合执法局", "成都市公安局武侯区分局"]
    assert sorted(w["department_name"] for w in detail["whistles"]) == sorted(both)
    by_kind = {t["kind"]: t["detail"] for t in detail["timeline"]}
    assert by_kind["escalated"]["department_names"] == both
    assert by_kind["reported"]["department_name"] == "成都市公安局武侯区分局"
    assert by_kind["report_overdue"]["department"] == "武侯区城市管理和综合执法局"
    # Units by name, never by their internal id.
    ids = {unit_id(code) for code in (URBAN, POLICE, STREET, DISTRICT)}
    assert not [t for t in detail["timeline"] if any(i in str(t["detail"]) for i in ids)]


# ----------------------------------------------------------------------------- 11. extensions


def test_extensions_beyond_the_cap_need_the_district_level(h):
    oid = h.lead(h.submit())["id"]
    h.post(f"/work-orders/{oid}/sign", "grid")
    street_supervisor = token(h, "u-supervisor-2", "supervisor", STREET)

    def ask(days: int) -> dict:
        r = h.post(f"/work-orders/{oid}/extensions", "grid", {"working_days": days, "reason": "需协调多部门"})
        assert r.status_code == 201, r.text
        return r.json()

    def decide_as(headers: dict, ext: dict):
        return h.client.post(f"/routing/v1/extensions/{ext['id']}/decision", json={"approve": True}, headers=headers)

    first = ask(5)
    assert first["needs_district"] is False
    assert decide_as(street_supervisor, first).status_code == 200
    second = ask(30)  # 35 working days in all: beyond the cap (clocks.json extensions: 2, 15)
    assert second["needs_district"] is True
    deadline = h.get(oid)["deadlines"]["result"]
    r = decide_as(street_supervisor, second)
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension.days_cap"
    assert r.json()["error"]["message"] == "批准后该工单累计延期工作日将超过上限，须由区级审批"
    assert r.json()["error"]["field"] == "working_days"
    assert r.json()["error"]["detail"] == "已批准延期 1 次、共 5 个工作日；上限为 2 次、15 个工作日"
    assert h.get(oid)["deadlines"]["result"] == deadline  # nothing changed
    assert decide_as(h.headers("supervisor"), second).status_code == 200  # the district's supervisor
    third = ask(1)  # a third extension: beyond the count
    r = decide_as(street_supervisor, third)
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension.count_cap"
    # A rejection is always anyone's to make.
    r = h.client.post(f"/routing/v1/extensions/{third['id']}/decision", json={"approve": False},
                      headers=street_supervisor)
    assert r.status_code == 200 and r.json()["status"] == "rejected"


# ----------------------------------------------------------------------------- 6. praise, suggestions, 私事


def test_praise_goes_to_the_unit_praised_for_its_record_with_no_clock_and_no_score(h):
    case_id = h.submit(appeal_type="表扬")
    order = h.get(h.lead(case_id)["id"])
    assert order["kind"] == "praise" and order["status"] == "closed" and order["unit_code"] == GRID1_CODE
    assert order["clocks"] == [] and set(order["deadlines"].values()) == {None}
    assert [e.type.rsplit(".", 1)[1] for e, _ in h.events()] == ["dispatched", "closed"]
    # The unit intake names (praised_unit_code, on intake.case.submitted since issue 12), when it names one.
    event = CaseSubmitted(case_id=str(uuid.uuid4()), case_no="2026-000002", category="env.garbage", channel="app",
                          appeal_type="表扬", matter_class="小事", lon=GRID1[0], lat=GRID1[1],
                          reporter_id="u-resident-1", submitted_at=datetime.now(UTC), praised_unit_code=URBAN)
    with h.rt.unit_of_work() as uow:
        dispatch.dispatch_submitted(uow.session, uow.emit, cached(h.rt, uow.session), event)
    assert h.lead(event.case_id)["unit_code"] == URBAN and h.lead(event.case_id)["kind"] == "praise"
    with h.rt.uow() as s:
        rows = {r["code"]: r for r in scores.scores(s, this_month(), "unit")}
    assert rows[GRID1_CODE]["counts"]["dispatched"] == 0 and rows[GRID1_CODE]["record"]["praise"] == 1
    assert rows[GRID1_CODE]["rates"]["response"] is None and rows[URBAN]["record"]["praise"] == 1


def test_a_suggestion_is_answered_adopted_or_not_on_its_own_clock_and_not_scored(h):
    case_id = h.submit(appeal_type="建议")
    order = h.get(h.lead(case_id)["id"])
    oid = order["id"]
    assert order["kind"] == "suggestion" and [c["kind"] for c in order["clocks"]] == ["result"]
    assert order["deadlines"]["sign"] is None and order["deadlines"]["contact"] is None
    start = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(order["deadlines"]["result"].replace("Z", "+00:00")) - start > timedelta(days=15)
    r = h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解决到位", "result_text": "已处理"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "workorder.answered_kind"
    r = h.post(f"/work-orders/{oid}/answer", "grid", {"answer_text": "感谢建议"})
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "workorder.adoption_required", "message": "建议类工单须说明是否采纳", "field": "adopted"}
    h.events()
    r = h.post(f"/work-orders/{oid}/answer", "grid", {"answer_text": "已采纳，增设分类垃圾桶", "adopted": True})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["adopted"] is True
    (e1, answered), (e2, _) = h.events()
    assert (e1.type, e2.type) == ("routing.case.answered", "routing.case.closed")
    assert answered.adopted is True and answered.kind == "suggestion" and answered.late is False
    with h.rt.uow() as s:
        row = next(r for r in scores.scores(s, this_month(), "unit") if r["code"] == GRID1_CODE)
    assert row["counts"]["dispatched"] == 0 and row["composite"] is None
    assert row["record"] == {"praise": 0, "suggestions": 1, "suggestions_answered": 1, "suggestions_adopted": 1,
                             "adoption_rate": 100.0}


def test_a_private_matter_ends_with_guidance_and_counts_in_no_units_scores(h):
    case_id = h.submit(category="property.fee", matter_class="私事")
    order = h.lead(case_id)
    oid = order["id"]
    assert order["kind"] == "guidance" and order["unit_code"] == COMMUNITY1
    r = h.post(f"/work-orders/{oid}/answer", "community", {"answer_text": "请与物业公司协商", "adopted": True})
    assert r.status_code == 422 and r.json()["error"]["field"] == "adopted"
    r = h.post(f"/work-orders/{oid}/answer", "community",
               {"answer_text": "已告知可向物业服务企业查询收费依据，或申请调解"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    with h.rt.uow() as s:
        assert COMMUNITY1 not in {r["code"] for r in scores.scores(s, this_month(), "unit")}
    assert h.post(f"/work-orders/{h.lead(h.submit())['id']}/answer", "grid",
                  {"answer_text": "答复"}).json()["error"]["code"] == "workorder.not_answerable"


def test_the_migration_announces_the_cases_already_waiting_for_designation(tmp_path):
    """routing_0008: a case left waiting for 指定 before designation had a clock is due at once."""
    from alembic import command
    from sqlalchemy import column, insert, table

    from services.routing.service import SPEC
    from shared.config import get_settings
    from shared.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'routing.sqlite'}"
    cfg = alembic_config("routing", url)
    command.upgrade(cfg, "routing_0007")
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), url)
    try:
        SPEC.seed(rt)
        now = utcnow()
        cases = table("routing_cases", *map(column, (
            "case_id", "case_no", "seq", "dispatch_count", "state", "lead_work_order_id", "category", "urgency",
            "confidential", "street_id")))
        orders = table("work_orders", *map(column, (
            "id", "case_id", "case_no", "unit_id", "street_id", "confidential", "category", "urgency", "role",
            "status", "seq", "dispatch_no", "designated", "reopened", "rule", "created_at", "updated_at",
            "excluded")))
        with rt.engine.begin() as conn:
            conn.execute(insert(cases).values(case_id="c-stuck", case_no="2026-1", seq=6, dispatch_count=3,
                                              state="awaiting_designation", lead_work_order_id="o-stuck",
                                              category="env.garbage", urgency="一般", confidential=False,
                                              street_id=unit_id(STREET)))
            conn.execute(insert(orders).values(
                id="o-stuck", case_id="c-stuck", case_no="2026-1", unit_id=unit_id(STREET), street_id=unit_id(STREET),
                confidential=False, category="env.garbage", urgency="一般", role="lead", status="returned", seq=6,
                dispatch_no=3, designated=False, reopened=False, rule="清单", created_at=now, updated_at=now,
                excluded=False))
        command.upgrade(cfg, "head")
        fired = []
        with rt.uow() as session:
            scan(session, fired.append, utcnow() + timedelta(seconds=1))
        assert [(p.event_type, p.case_id, p.designator_ids) for p in fired] == [
            ("routing.case.designation_overdue", "c-stuck", ["u-supervisor-2"])]
    finally:
        rt.dispose()
