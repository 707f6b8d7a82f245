"""Who sees and may do what: a user's subtree bounds the ledger, the scores, designations, duty
changes and the watch list; a user of an unknown unit sees nothing; units that do not call the
requester back are not told who they are."""

import csv
import io
from datetime import datetime

from services.routing.models import RoutingCase, Unit
from services.routing.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings, local_zone
from shared.ids import unit_id

from .conftest import COMMUNITY1, DISTRICT, GRID1_CODE, HOUSING, STREET, URBAN, WATER, Harness

COMMUNITY2 = "510107001002000"


def as_user(h, uid: str, role: str, unit: str) -> dict:
    return {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}


def this_month() -> str:
    return datetime.now(local_zone()).strftime("%Y-%m")


def second_street(h) -> dict:
    """Another street of the district (the demo has one), with no work of its own."""
    code = "510107002000000"
    with h.rt.uow() as session:
        session.add(Unit(id=unit_id(code), code=code, name="第二街道", level="street", parent_id=unit_id(DISTRICT),
                         depth=1, path=f"/{DISTRICT}/{code}/", households=0))
    return as_user(h, "u-street-x", "street_dispatcher", code)


def test_the_ledger_unit_filter_cannot_reach_outside_the_callers_subtree(h):
    h.submit()
    community = h.headers("community")
    r = h.client.get("/routing/v1/ledger", params={"unit_code": STREET}, headers=community)
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.out_of_scope"
    assert r.json()["error"]["field"] == "unit_code"
    r = h.client.get("/routing/v1/ledger", params={"unit_code": GRID1_CODE}, headers=community)
    assert r.status_code == 200 and len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 2


def test_scores_need_a_supervising_role_and_show_only_the_callers_subtree(h):
    h.submit()  # grid 1, community 1
    period = this_month()
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
    case_id = h.submit()
    for who in ("grid", "community", "street"):
        order = h.lead(case_id)
        r = h.post(f"/work-orders/{order['id']}/return", who, {"reason": "不属本单位职责", "legal_basis": "职责清单"})
        assert r.status_code == 200, r.text
    h.events()
    other = as_user(h, "u-supervisor-x", "supervisor", COMMUNITY2)
    r = h.client.post(f"/routing/v1/cases/{case_id}/designate", json={"unit_code": URBAN, "reason": "越权指定"},
                      headers=other)
    # Out of scope is the answer for a case that does not exist (issue 11: was 403 out_of_scope).
    assert r.status_code == 404 and r.json()["error"]["code"] == "routing.case_not_found"
    with h.rt.uow() as session:
        assert session.get(RoutingCase, case_id).state == "awaiting_designation"
    assert h.events() == []


def test_duty_of_staff_outside_the_callers_subtree_cannot_be_changed(h):
    other = second_street(h)
    r = h.client.put("/routing/v1/staff/u-grid-worker-001001/duty", json={"on_duty": False}, headers=other)
    # Who works where outside one's subtree is not revealed (issue 11: was 403 out_of_scope).
    assert r.status_code == 404 and r.json()["error"]["code"] == "staff.not_found"
    r = h.client.put("/routing/v1/staff/u-grid-worker-001001/duty", json={"on_duty": False},
                     headers=h.headers("street"))
    assert r.status_code == 200 and r.json()["on_duty"] is False


def test_the_watch_list_shows_only_the_callers_street(h):
    from shared.events.mediation import RiskRaised

    street_id = h.lead(h.submit(category="safety.other", matter_class="大事"))["unit_id"]
    h.feed(RiskRaised(dispute_id="d-1", dispute_no="T-1", seq=1, street_unit_id=street_id, level="高",
                      indicators=["repeat"], at=datetime.now(local_zone())))
    mine = h.client.get("/routing/v1/watch-list", headers=h.headers("community")).json()
    assert [e["dispute_id"] for e in mine] == ["d-1"]  # the community's own street
    r = h.client.get("/routing/v1/watch-list", headers=second_street(h))
    assert r.status_code == 200 and r.json() == []


def test_a_user_of_an_unknown_unit_sees_nothing_on_postgresql(pg_database, tmp_path):
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), pg_database)
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    try:
        h = Harness(rt)
        h.submit()
        nobody = as_user(h, "u-supervisor-nowhere", "supervisor", "999999999999999")
        for path, params in (("/supervision/overdue", {}), ("/ledger", {}), ("/scores", {"period": this_month()}),
                             ("/watch-list", {})):
            r = h.client.get(f"/routing/v1{path}", params=params, headers=nobody)
            assert r.status_code == 200, (path, r.text)
        assert h.client.get("/routing/v1/supervision/overdue", headers=nobody).json() == []
        rows = list(csv.reader(io.StringIO(h.client.get("/routing/v1/ledger", headers=nobody)
                                           .content.decode("utf-8-sig"))))
        assert len(rows) == 1
    finally:
        rt.dispose()


def test_an_assisting_unit_is_not_told_who_the_requester_is(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    assist = next(o for o in h.orders(case_id) if o["role"] == "assist")
    housing = as_user(h, "u-department-handler-900004", "department_handler", HOUSING)
    r = h.client.get(f"/routing/v1/work-orders/{assist['id']}", headers=housing)
    assert r.status_code == 200 and r.json()["requester_id"] is None


def test_confidential_cases_hide_the_requester_from_handlers(h):
    order = h.lead(h.submit(confidential=True))
    assert order["confidential"] and order["requester_id"] is None


def test_a_confidential_requesters_own_acts_are_anonymous_in_the_work_order_timeline(h):
    from datetime import UTC

    from shared.events.intake import CaseWithdrawn

    case_id = h.submit(confidential=True)
    order = h.lead(case_id)
    h.feed(CaseWithdrawn(case_id=case_id, case_no="x", by_id="u-resident-1", at=datetime.now(UTC)))
    actors = [t["actor_id"] for t in h.get(order["id"])["timeline"]]
    assert "u-resident-1" not in actors


GRID1_PATH = f"/{DISTRICT}/{STREET}/{COMMUNITY1}/{GRID1_CODE}/"


def test_community_staff_read_the_orders_of_cases_located_in_their_community(h):
    """Review of issue 11, finding 15: a case located in community 1 but handled by a department
    (the water company) was out of reach of community 1's staff: routing knew only its street."""
    oid = h.lead(h.submit(category="utility.water", matter_class="大事"))["id"]  # at grid 1, community 1
    mine = as_user(h, "u-community-staff-001", "community_staff", COMMUNITY1)
    r = h.client.get(f"/routing/v1/work-orders/{oid}", headers=mine)
    assert r.status_code == 200 and r.json()["unit_code"] == WATER
    # Above the order's place, as the street is: she may verify its result and whistle for it.
    assert h.post(f"/work-orders/{oid}/sign", "water").status_code == 200
    r = h.client.post(f"/routing/v1/work-orders/{oid}/whistle", json={"department_codes": [URBAN]}, headers=mine)
    assert r.status_code == 200, r.text
    # Not the other community's staff, nor a grid worker (as in intake: she sees the orders of her grids).
    other = as_user(h, "u-community-staff-002", "community_staff", COMMUNITY2)
    assert h.client.get(f"/routing/v1/work-orders/{oid}", headers=other).status_code == 404
    assert h.client.get(f"/routing/v1/work-orders/{oid}", headers=h.headers("grid")).status_code == 404


def test_the_dispatched_event_places_the_case_in_the_finest_area_of_the_map(h):
    """intake limits who sees a case from `area_path`: the grid's path reaches the community's staff."""
    h.submit(category="utility.water", matter_class="大事")
    [(_, dispatched)] = h.events()
    assert dispatched.unit_code == WATER and dispatched.area_path == GRID1_PATH
    # Where the map has no grid at that point, the community is the finest area.
    with h.rt.uow() as session:
        session.get(Unit, unit_id(GRID1_CODE)).geometry = None
    h.rt.cache.pop("locator", None)
    case_id = h.submit(category="utility.water", matter_class="大事")
    [(_, dispatched)] = h.events()
    assert dispatched.area_path == f"/{DISTRICT}/{STREET}/{COMMUNITY1}/"
    with h.rt.uow() as session:
        assert session.get(RoutingCase, case_id).area_id == unit_id(COMMUNITY1)
    r = h.client.get(f"/routing/v1/work-orders/{dispatched.work_order_id}",
                     headers=as_user(h, "u-community-staff-001", "community_staff", COMMUNITY1))
    assert r.status_code == 200


def test_the_migration_places_the_cases_routing_already_holds(tmp_path):
    """routing_0007 fills the area of every case located before it (and of its orders) from its point."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import column, insert, select, table

    from shared.db import utcnow
    from shared.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'routing.sqlite'}"
    cfg = alembic_config("routing", url)
    command.upgrade(cfg, ScriptDirectory.from_config(cfg).get_revision("routing_0007").down_revision)
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), url)
    try:
        SPEC.seed(rt)  # the directory: units and their polygons
        now = utcnow()
        cases = table("routing_cases", *map(column, ("case_id", "case_no", "seq", "dispatch_count", "state",
                                                     "category", "urgency", "confidential", "lat", "lon")))
        orders = table("work_orders", *map(column, (
            "id", "case_id", "case_no", "unit_id", "confidential", "category", "urgency", "role", "status", "seq",
            "dispatch_no", "designated", "reopened", "rule", "created_at", "updated_at", "excluded")))
        with rt.engine.begin() as conn:
            for cid, point in (("c-located", (104.052115, 30.6283)), ("c-nowhere", (None, None))):
                conn.execute(insert(cases).values(case_id=cid, case_no="2026-1", seq=1, dispatch_count=1,
                                                  state="active", category="utility.water", urgency="一般",
                                                  confidential=False, lon=point[0], lat=point[1]))
                conn.execute(insert(orders).values(
                    id=f"o-{cid}", case_id=cid, case_no="2026-1", unit_id=unit_id("510107900006000"),
                    confidential=False, category="utility.water", urgency="一般", role="lead", status="dispatched",
                    seq=1, dispatch_no=1, designated=False, reopened=False, rule="清单", created_at=now,
                    updated_at=now, excluded=False))
        command.upgrade(cfg, "head")
        with rt.engine.connect() as conn:
            placed = dict(conn.execute(select(column("case_id"), column("area_id")).select_from(
                table("routing_cases"))).all())
            orders_placed = dict(conn.execute(select(column("id"), column("area_id")).select_from(
                table("work_orders"))).all())
        assert placed == {"c-located": unit_id(GRID1_CODE), "c-nowhere": None}
        assert orders_placed == {"o-c-located": unit_id(GRID1_CODE), "o-c-nowhere": None}
    finally:
        rt.dispose()


def test_community_staff_get_no_street_row_made_of_their_community_alone(h):
    h.submit()  # grid 1, community 1, street 玉林街道
    h.submit(point=None)  # not located: the fallback owner's, outside the street
    period = this_month()
    community = h.headers("community")
    rows = h.client.get("/routing/v1/scores", params={"period": period, "group_by": "street"},
                        headers=community).json()["rows"]
    assert rows == []
    ranked = h.client.get("/routing/v1/rankings", params={"period": period}, headers=community).json()["rows"]
    assert ranked == []
    # Whoever sees the street's row sees the same figures.
    seen = {}
    for who in ("street", "supervisor"):
        rows = h.client.get("/routing/v1/scores", params={"period": period, "group_by": "street"},
                            headers=h.headers(who)).json()["rows"]
        seen[who] = {r["code"]: r["counts"] for r in rows if r["code"]}
    assert seen["street"] == seen["supervisor"] and seen["street"][STREET]["dispatched"] == 1
