"""Defects found in review: scope of supervisors and of the ledger, assisting units and the
requester, whistles, reassigning, self-approved extensions, the clock scanner's case counter
and the calendar past the years the package knows."""

import csv
import io
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.routing.models import RoutingCase, Whistle, WorkOrder
from shared.auth import issue_token
from shared.db import utcnow

from .conftest import DISTRICT, GRID1_CODE, STREET, URBAN, Harness

HOUSING = "510107900004000"
COMMUNITY2 = "510107001002000"
CN = ZoneInfo("Asia/Shanghai")


def as_user(h, uid: str, role: str, unit: str) -> dict:
    return {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}


def returned_three_times(h) -> str:
    case_id = h.submit()
    for who in ("grid", "community", "street"):
        order = h.lead(case_id)
        r = h.post(f"/work-orders/{order['id']}/return", who, {"reason": "不属本单位职责", "legal_basis": "职责清单"})
        assert r.status_code == 200, r.text
    return case_id


# ----------------------------------------------------------------------------- scope


def test_the_ledger_unit_filter_cannot_reach_outside_the_callers_subtree(h):
    h.submit()
    community = h.headers("community")
    r = h.client.get("/routing/v1/ledger", params={"unit_code": STREET}, headers=community)
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.out_of_scope"
    assert r.json()["error"]["field"] == "unit_code"
    r = h.client.get("/routing/v1/ledger", params={"unit_code": GRID1_CODE}, headers=community)
    assert r.status_code == 200 and len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 2


def test_the_ledger_is_bounded_by_a_row_limit_and_says_when_it_cut(h):
    for _ in range(3):
        h.submit()
    headers = h.headers("supervisor")
    r = h.client.get("/routing/v1/ledger", params={"limit": 2}, headers=headers)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 2 and r.headers["x-ledger-truncated"] == "true"
    r = h.client.get("/routing/v1/ledger", params={"limit": 3}, headers=headers)
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 4
    assert r.headers["x-ledger-truncated"] == "false"
    r = h.client.get("/routing/v1/ledger", params={"limit": 10**9}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "limit"


def test_scores_need_a_supervising_role_and_show_only_the_callers_subtree(h):
    h.submit()  # grid 1, community 1
    period = datetime.now(CN).strftime("%Y-%m")
    for path in ("/routing/v1/scores", "/routing/v1/rankings"):
        r = h.client.get(path, params={"period": period}, headers=h.headers("grid"))
        assert r.status_code == 403
    other = as_user(h, "u-community-staff-x", "community_staff", COMMUNITY2)
    rows = h.client.get("/routing/v1/scores", params={"period": period}, headers=other).json()["rows"]
    assert rows == []  # community 2 sees nothing of community 1's grid
    rows = h.client.get("/routing/v1/scores", params={"period": period}, headers=h.headers("community")).json()
    assert [r["code"] for r in rows["rows"]] == [GRID1_CODE]
    rows = h.client.get("/routing/v1/scores", params={"period": period}, headers=h.headers("supervisor")).json()
    assert [r["code"] for r in rows["rows"]] == [GRID1_CODE]


def test_a_supervisor_designates_only_in_their_own_subtree(h):
    case_id = returned_three_times(h)
    h.events()
    other = as_user(h, "u-supervisor-x", "supervisor", COMMUNITY2)
    r = h.client.post(f"/routing/v1/cases/{case_id}/designate", json={"unit_code": URBAN, "reason": "越权指定"},
                      headers=other)
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.out_of_scope"
    with h.rt.uow() as session:
        assert session.get(RoutingCase, case_id).state == "awaiting_designation"
    assert h.events() == []


# ----------------------------------------------------------------------------- the requester and assisting units


def test_an_assisting_unit_is_not_told_who_the_requester_is(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    assist = next(o for o in h.orders(case_id) if o["role"] == "assist")
    housing = as_user(h, "u-department-handler-900004", "department_handler", HOUSING)
    r = h.client.get(f"/routing/v1/work-orders/{assist['id']}", headers=housing)
    assert r.status_code == 200 and r.json()["requester_id"] is None


def test_a_whistled_department_reporting_is_not_told_who_the_requester_is(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    r = h.post(f"/work-orders/{oid}/report", "urban")
    assert r.status_code == 200 and r.json()["requester_id"] is None
    assert "u-resident-1" not in r.text


# ----------------------------------------------------------------------------- whistles


def test_the_same_department_cannot_be_whistled_twice_on_one_order(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    assert h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]}).status_code == 200
    assert h.post(f"/work-orders/{oid}/report", "urban").status_code == 200
    h.events()
    r = h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "whistle.already_called"
    assert r.json()["error"]["field"] == "department_codes.0"
    with h.rt.uow() as session:
        assert len(session.scalars(select(Whistle).where(Whistle.work_order_id == oid)).all()) == 1
    assert h.events() == []


def test_a_department_cannot_join_an_order_that_is_already_closed(h):
    case_id = h.submit(category="safety.other", matter_class="大事")
    oid = h.lead(case_id)["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    h.post(f"/work-orders/{oid}/contact", "street")
    h.post(f"/work-orders/{oid}/resolve", "street", {"outcome": "解决到位", "result_text": "街道已处理"})
    assert h.post(f"/work-orders/{oid}/close", "street").status_code == 200
    h.events()
    r = h.post(f"/work-orders/{oid}/report", "urban")
    assert r.status_code == 409 and r.json()["error"]["code"] == "workorder.illegal_transition"
    assert [o["role"] for o in h.orders(case_id)] == ["lead"] and h.events() == []


# ----------------------------------------------------------------------------- reassigning


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


def test_reassigning_a_lead_takes_its_assisting_orders_along(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    lead = h.lead(case_id)
    r = h.post(f"/work-orders/{lead['id']}/reassign", "supervisor", {"unit_code": URBAN, "reason": "改由城管主办"})
    new_id = r.json()["id"]
    assists = [o for o in h.orders(case_id) if o["role"] == "assist"]
    assert [a["lead_id"] for a in assists] == [new_id]


# ----------------------------------------------------------------------------- extensions


def test_a_supervisor_cannot_approve_their_own_extension(h):
    oid = h.lead(h.submit(matter_class=None, point=(104.038, 30.622)))["id"]  # lands on the district
    assert h.post(f"/work-orders/{oid}/sign", "supervisor").status_code == 200
    r = h.post(f"/work-orders/{oid}/extensions", "supervisor", {"working_days": 3, "reason": "需协调多部门"})
    assert r.status_code == 201
    before = h.get(oid)["deadlines"]["result"]
    r = h.post(f"/extensions/{r.json()['id']}/decision", "supervisor", {"approve": True})
    assert r.status_code == 403 and r.json()["error"]["code"] == "extension.self_approval"
    assert h.get(oid)["deadlines"]["result"] == before


# ----------------------------------------------------------------------------- the calendar


def test_new_years_day_is_a_rest_day_even_in_a_year_the_package_does_not_know():
    from services.routing import workcalendar
    from services.routing.workcalendar import WorkCalendar, is_working_day

    workcalendar.is_working_day.cache_clear()
    assert not is_working_day(date(2027, 1, 1))  # a Friday, but 元旦 by law every year
    assert not is_working_day(date(2027, 10, 1)) and not is_working_day(date(2027, 5, 1))
    # Thursday 31 December 2026 15:00 + 1 working day skips 元旦 and the weekend.
    start = datetime(2026, 12, 31, 15, 0, tzinfo=CN)
    assert WorkCalendar().add(start, working_days=1) == datetime(2027, 1, 4, 15, 0, tzinfo=CN)


# ----------------------------------------------------------------------------- the scanner and the case counter


def test_the_scanner_takes_the_next_case_seq_while_an_api_change_holds_the_case(pg_database, tmp_path):
    from services.routing.clocks import scan
    from services.routing.service import SPEC
    from shared.config import get_settings

    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), pg_database)
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    try:
        h = Harness(rt)
        case_id = h.submit(category="utility.gas", matter_class="大事", urgency="特急")
        with rt.uow() as session:
            start = session.get(RoutingCase, case_id).seq
        held = threading.Event()

        def api_change():  # another transition of the same case, committing a moment later
            with rt.uow() as session:
                rc = session.get(RoutingCase, case_id, with_for_update=True)
                rc.seq += 1
                held.set()
                time.sleep(0.5)

        t = threading.Thread(target=api_change)
        t.start()
        held.wait(5)
        with rt.uow() as session:
            events = scan(session, utcnow() + timedelta(minutes=12))
        t.join()
        assert [e.seq for e in events] == [start + 2]
        with rt.uow() as session:
            assert session.get(RoutingCase, case_id).seq == start + 2
            assert session.scalar(select(WorkOrder.seq).where(WorkOrder.case_id == case_id)) == start + 2
    finally:
        rt.dispose()



def test_an_assisting_order_has_no_result_clock_to_extend(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    assist = next(o for o in h.orders(case_id) if o["role"] == "assist")
    housing = as_user(h, "u-department-handler-900004", "department_handler", HOUSING)
    assert h.client.post(f"/routing/v1/work-orders/{assist['id']}/sign", headers=housing).status_code == 200
    r = h.client.post(f"/routing/v1/work-orders/{assist['id']}/extensions",
                      json={"working_days": 2, "reason": "需配合"}, headers=housing)
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension.no_deadline"
    assert r.json()["error"]["field"] == "role"
    assert h.get(assist["id"])["extensions"] == []


def second_street(h) -> dict:
    """Another street of the district (the demo has one), with no work of its own."""
    from services.routing.models import Unit
    from shared.ids import unit_id

    code = "510107002000000"
    with h.rt.uow() as session:
        session.add(Unit(id=unit_id(code), code=code, name="第二街道", level="street", parent_id=unit_id(DISTRICT),
                         depth=1, path=f"/{DISTRICT}/{code}/", households=0))
    return as_user(h, "u-street-x", "street_dispatcher", code)


def test_duty_of_staff_outside_the_callers_subtree_cannot_be_changed(h):
    other = second_street(h)
    r = h.client.put("/routing/v1/staff/u-grid-worker-001001/duty", json={"on_duty": False}, headers=other)
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.out_of_scope"
    r = h.client.put("/routing/v1/staff/u-grid-worker-001001/duty", json={"on_duty": False},
                     headers=h.headers("street"))
    assert r.status_code == 200 and r.json()["on_duty"] is False


def test_the_watch_list_shows_only_the_callers_street(h):
    from shared.events.mediation import RiskRaised

    street_id = h.lead(h.submit(category="safety.other", matter_class="大事"))["unit_id"]
    h.feed(RiskRaised(dispute_id="d-1", dispute_no="T-1", seq=1, street_unit_id=street_id, level="高",
                      indicators=["repeat"], at=datetime.now(CN)))
    mine = h.client.get("/routing/v1/watch-list", headers=h.headers("community")).json()
    assert [e["dispute_id"] for e in mine] == ["d-1"]  # the community's own street
    r = h.client.get("/routing/v1/watch-list", headers=second_street(h))
    assert r.status_code == 200 and r.json() == []


def test_a_user_of_an_unknown_unit_sees_nothing_on_postgresql(pg_database, tmp_path):
    from services.routing.service import SPEC
    from shared.config import get_settings

    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), pg_database)
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    try:
        h = Harness(rt)
        h.submit()
        nobody = as_user(h, "u-supervisor-nowhere", "supervisor", "999999999999999")
        period = datetime.now(CN).strftime("%Y-%m")
        for path, params in (("/supervision/overdue", {}), ("/ledger", {}), ("/scores", {"period": period}),
                             ("/watch-list", {})):
            r = h.client.get(f"/routing/v1{path}", params=params, headers=nobody)
            assert r.status_code == 200, (path, r.text)
        assert h.client.get("/routing/v1/supervision/overdue", headers=nobody).json() == []
        rows = list(csv.reader(io.StringIO(h.client.get("/routing/v1/ledger", headers=nobody)
                                           .content.decode("utf-8-sig"))))
        assert len(rows) == 1
    finally:
        rt.dispose()
