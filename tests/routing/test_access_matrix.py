"""Every operation of routing's API × every principal: the status each one gets (issue 11).

The principals are two of each role in different units (the demo's users, and a second street with
its own dispatcher, supervisor and operator), a resident and an admin. The target is a work order
of the first grid (玉林北路社区第一网格, in community 1 of the first street), brought to the state the
operation needs; a list answers SEES when it shows the target and BLIND when it answers without it.
Out of scope is 404 (as if the order did not exist); a role that may never do the thing is 403.

A refused request changes nothing, so the target is made again only after a request succeeded.
`test_every_endpoint_has_a_rule` fails when an endpoint is added without a row here.
"""

import csv
import io
from datetime import datetime, timedelta

import pytest

from services.routing import access, notices
from services.routing.models import Unit, WorkOrder
from services.routing.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings, local_zone
from shared.db import utcnow
from shared.ids import unit_id
from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import COMMUNITY1, DISTRICT, GRID1_CODE, POLICE, STREET, URBAN, Harness

COMMUNITY2, STREET2 = "510107001002000", "510107002000000"
V1 = "/routing/v1"
SEES, BLIND = "sees", "blind"

PRINCIPALS = {
    "resident": ("u-resident-1", "resident", None),
    "mediator": ("u-mediator-1", "mediator", COMMUNITY1),
    "mediator_other": ("u-med-chair-002", "mediator", COMMUNITY2),
    "operator": ("u-operator-2", "operator", STREET),
    "operator_other": ("u-operator-x", "operator", STREET2),
    "grid": ("u-grid-worker-001001", "grid_worker", GRID1_CODE),
    "grid_other": ("u-grid-worker-001002", "grid_worker", "510107001001002"),
    "community": ("u-community-staff-001", "community_staff", COMMUNITY1),
    "community_other": ("u-community-staff-002", "community_staff", COMMUNITY2),
    "street": ("u-street-dispatcher-1", "street_dispatcher", STREET),
    "street_other": ("u-street-dispatcher-x", "street_dispatcher", STREET2),
    "department": ("u-department-handler-900001", "department_handler", URBAN),
    "department_other": ("u-department-handler-900002", "department_handler", POLICE),
    "supervisor": ("u-supervisor-2", "supervisor", STREET),
    "supervisor_other": ("u-supervisor-x", "supervisor", STREET2),
    "admin": ("u-admin-1", "admin", DISTRICT),
}


def rule(default, **overrides) -> dict:
    unknown = set(overrides) - set(PRINCIPALS)
    assert not unknown, unknown
    return {p: overrides.get(p, default) for p in PRINCIPALS}


OUTSIDE = dict(grid_other=404, community_other=404, street_other=404, department=404, department_other=404,
               supervisor_other=404)
# Handling the order: its unit's staff (or the admin); above it they read it but do not handle it.
HANDLE = rule(403, grid=200, admin=200, **OUTSIDE)
# Roles acting from above (the order's unit or its case's street in their subtrees).
VERIFY = rule(403, community=200, street=200, supervisor=200, admin=200, community_other=404, street_other=404,
              supervisor_other=404)
# An operator reads and acts on no work order (review of issue 11, finding 4: she reassigned orders
# of cases intake hides from her): 403 for every order action, 404 for the read.
DISPATCH = rule(403, street=200, supervisor=200, admin=200, street_other=404, supervisor_other=404)
SUPERVISE = rule(403, supervisor=200, admin=200, supervisor_other=404)
WHISTLE = rule(403, community=200, street=200, supervisor=200, admin=200, community_other=404, street_other=404,
               supervisor_other=404)
ANY_STAFF = rule(200, resident=403)
WORK_ORDER_STAFF = rule(200, resident=403, mediator=403, mediator_other=403, operator=403, operator_other=403)
SCORE_READERS = rule(403, community=SEES, street=SEES, operator=SEES, supervisor=SEES, admin=SEES,
                     community_other=BLIND, street_other=BLIND, operator_other=BLIND, supervisor_other=BLIND)
# The ledger lists work orders one by one: not the operators'.
LEDGER_READERS = {**SCORE_READERS, "operator": 403, "operator_other": 403}
AUDITORS = rule(403, supervisor=200, supervisor_other=200, admin=200)

RULES = {
    "GET /routing/v1/grids": ("none", rule(200)),
    "GET /routing/v1/units": ("none", ANY_STAFF),
    "GET /routing/v1/locate": ("none", ANY_STAFF),
    "GET /routing/v1/responsibility": ("none", ANY_STAFF),
    # The list is the whole district's: a street's supervisor may not publish it (the root unit's
    # supervisor may, not among these principals: test_responsibility.py).
    "POST /routing/v1/responsibility": ("none", rule(403, admin=201)),
    # Their own duty, or a dispatcher's or supervisor's above them; who works elsewhere is not revealed.
    "PUT /routing/v1/staff/{user_id}/duty": ("none", rule(403, grid=200, street=200, supervisor=200, admin=200,
                                                          street_other=404, supervisor_other=404)),
    "GET /routing/v1/work-orders/mine": ("dispatched", WORK_ORDER_STAFF),
    "GET /routing/v1/work-orders/{order_id}": ("dispatched", rule(
        404, grid=200, community=200, street=200, supervisor=200, admin=200)),
    "POST /routing/v1/work-orders/{order_id}/sign": ("dispatched", HANDLE),
    "POST /routing/v1/work-orders/{order_id}/contact": ("signed", HANDLE),
    "POST /routing/v1/work-orders/{order_id}/resolve": ("in_progress", HANDLE),
    # A suggestion (建议) is answered by its unit's staff, as a result is reported.
    "POST /routing/v1/work-orders/{order_id}/answer": ("suggestion", HANDLE),
    "POST /routing/v1/work-orders/{order_id}/return": ("dispatched", HANDLE),
    "POST /routing/v1/work-orders/{order_id}/extensions": ("signed", {**HANDLE, "grid": 201, "admin": 201}),
    "POST /routing/v1/work-orders/{order_id}/verify": ("resolved", VERIFY),
    "POST /routing/v1/work-orders/{order_id}/close": ("resolved", DISPATCH),
    "POST /routing/v1/work-orders/{order_id}/reassign": ("dispatched", DISPATCH),
    "POST /routing/v1/cases/{case_id}/designate": ("awaiting_designation", rule(
        403, supervisor=201, admin=201, supervisor_other=404)),
    "POST /routing/v1/work-orders/{order_id}/whistle": ("signed", WHISTLE),
    # Only the department whistled for it; another department does not learn it exists.
    "POST /routing/v1/work-orders/{order_id}/report": ("whistled", rule(403, department=200,
                                                                        department_other=404)),
    "POST /routing/v1/work-orders/{order_id}/supervise": ("dispatched", SUPERVISE),
    "POST /routing/v1/work-orders/{order_id}/exclusion": ("dispatched", SUPERVISE),
    "POST /routing/v1/extensions/{extension_id}/decision": ("extension", SUPERVISE),
    "GET /routing/v1/supervision/overdue": ("overdue", rule(403, street=SEES, supervisor=SEES, admin=SEES,
                                                            street_other=BLIND, supervisor_other=BLIND)),
    # Cases waiting for 指定: exactly who may designate them (a supervisor above the case, the admin);
    # street dispatchers and community staff, who may not, are refused (they see them as overdue).
    "GET /routing/v1/designations": ("awaiting_designation", rule(403, supervisor=SEES, admin=SEES,
                                                                  supervisor_other=BLIND)),
    # A community sees its street's watch list: both communities are in the first street.
    "GET /routing/v1/watch-list": ("watched", rule(403, community=SEES, community_other=SEES, street=SEES,
                                                   supervisor=SEES, admin=SEES, street_other=BLIND,
                                                   supervisor_other=BLIND)),
    "GET /routing/v1/scores": ("dispatched", SCORE_READERS),
    # A street is ranked for those whose scope holds it: a community's staff are not shown one made of theirs.
    "GET /routing/v1/rankings": ("dispatched", {**SCORE_READERS, "community": BLIND}),
    "GET /routing/v1/ledger": ("dispatched", LEDGER_READERS),
    "GET /routing/v1/audit": ("none", AUDITORS),
    # A request's trace (shared/trace_api.py): the admins'; for anybody else it does not exist.
    "GET /routing/v1/admin/trace/{correlation_id}": ("none", rule(404, admin=200)),
    # The working calendar is the whole deployment's: staff read it; the admin (and a supervisor of the
    # root unit, not among these principals: test_calendar_notices.py) loads the State Council's notices
    # and reads who loaded which version.
    "GET /routing/v1/calendar": ("none", ANY_STAFF),
    "GET /routing/v1/calendar/days": ("none", ANY_STAFF),
    "GET /routing/v1/calendar/notices": ("none", rule(403, admin=200)),
    "POST /routing/v1/calendar/notices": ("none", rule(403, admin=201)),
}


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    rt = SPEC.runtime(get_settings(var_dir=tmp, mode="embedded"), f"sqlite:///{tmp / 'routing.sqlite'}")
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    with rt.uow() as session:  # a second street, with no work of its own
        session.add(Unit(id=unit_id(STREET2), code=STREET2, name="第二街道", level="street",
                         parent_id=unit_id(DISTRICT), depth=1, path=f"/{DISTRICT}/{STREET2}/", households=0))
    yield Harness(rt)
    rt.dispose()


def headers(h: Harness, who: str) -> dict:
    uid, role, unit = PRINCIPALS[who]
    return {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}


def act(h: Harness, path: str, who: str, body: dict | None = None):
    r = h.client.post(f"{V1}{path}", json=body, headers=headers(h, who))
    assert r.status_code in (200, 201), (path, r.text)
    return r.json()


def target(h: Harness, state: str) -> dict:
    """A fresh work order of the first grid in `state`: its ids, and what else an operation needs."""
    if state == "none":
        return {}
    if state == "watched":
        from shared.events.mediation import RiskRaised

        h.feed(RiskRaised(dispute_id="d-matrix", dispute_no="T-1", seq=1, street_unit_id=unit_id(STREET),
                          level="高", indicators=["repeat"], at=datetime.now(local_zone())))
        return {"dispute_id": "d-matrix"}
    case_id = h.submit(appeal_type="建议") if state == "suggestion" else h.submit()
    order = h.lead(case_id)
    oid = order["id"]
    t = {"order_id": oid, "case_id": case_id}
    steps = {"signed": ["sign"], "in_progress": ["sign", "contact"], "resolved": ["sign", "contact", "resolve"],
             "whistled": ["sign"], "extension": ["sign"]}.get(state, [])
    bodies = {"resolve": {"outcome": "解决到位", "result_text": "已清运"}}
    for step in steps:
        act(h, f"/work-orders/{oid}/{step}", "grid", bodies.get(step))
    if state == "whistled":
        act(h, f"/work-orders/{oid}/whistle", "community", {"department_codes": [URBAN]})
    if state == "extension":
        t["extension_id"] = act(h, f"/work-orders/{oid}/extensions", "grid",
                                {"working_days": 2, "reason": "需协调物业"})["id"]
    if state == "overdue":
        with h.rt.uow() as session:
            session.get(WorkOrder, oid).sign_deadline = utcnow() - timedelta(minutes=5)
    if state == "awaiting_designation":
        for who in ("grid", "community", "street"):
            lead = h.lead(case_id)
            act(h, f"/work-orders/{lead['id']}/return", who, {"reason": "不属本单位职责", "legal_basis": "职责清单"})
    return t


def request(op: str, t: dict, h: Harness) -> tuple[str, str, dict, dict | None]:
    method, path = op.split(" ", 1)
    path = path.format(order_id=t.get("order_id"), case_id=t.get("case_id"), extension_id=t.get("extension_id"),
                       user_id="u-grid-worker-001001", correlation_id="req-1")
    period = datetime.now(local_zone()).strftime("%Y-%m")
    params = {"GET /routing/v1/locate": {"lat": 30.6283, "lon": 104.052115},
              "GET /routing/v1/scores": {"period": period}, "GET /routing/v1/rankings": {"period": period},
              "GET /routing/v1/ledger": {"period": period}, "GET /routing/v1/calendar/days": {"year": 2026}}.get(op, {})
    bodies = {
        "PUT /routing/v1/staff/{user_id}/duty": {"on_duty": True},
        "POST /routing/v1/responsibility": {"document": h.client.get(
            f"{V1}/responsibility", headers=headers(h, "admin")).json()["document"], "note": "矩阵测试"},
        "POST /routing/v1/work-orders/{order_id}/resolve": {"outcome": "解决到位", "result_text": "已清运"},
        "POST /routing/v1/work-orders/{order_id}/return": {"reason": "不属本单位职责", "legal_basis": "职责清单"},
        "POST /routing/v1/work-orders/{order_id}/extensions": {"working_days": 2, "reason": "需协调物业"},
        "POST /routing/v1/work-orders/{order_id}/verify": {"passed": True},
        "POST /routing/v1/work-orders/{order_id}/answer": {"answer_text": "已采纳，增设垃圾桶", "adopted": True},
        "POST /routing/v1/work-orders/{order_id}/reassign": {"unit_code": URBAN, "reason": "涉及占道经营"},
        "POST /routing/v1/cases/{case_id}/designate": {"unit_code": URBAN, "reason": "占道问题由城管负责"},
        "POST /routing/v1/work-orders/{order_id}/whistle": {"department_codes": [POLICE]},
        "POST /routing/v1/work-orders/{order_id}/supervise": {"note": "请今日内签收"},
        "POST /routing/v1/work-orders/{order_id}/exclusion": {"reason": "诉求人要求超出政策范围"},
        "POST /routing/v1/extensions/{extension_id}/decision": {"approve": True},
        "POST /routing/v1/calendar/notices": notices.shipped()[2026].model_dump(mode="json"),
    }
    return method, path, params, bodies.get(op)


def listed(op: str, t: dict, response) -> bool:
    """Whether a list's answer shows the target."""
    if op.endswith("/ledger"):
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        return any(t["order_id"] in row for row in rows[1:])
    body = response.json()
    if op.endswith("/scores"):
        return GRID1_CODE in [r["code"] for r in body["rows"]]
    if op.endswith("/rankings"):
        return STREET in [r["code"] for r in body["rows"]]
    if op.endswith("/watch-list"):
        return t["dispute_id"] in [e["dispute_id"] for e in body]
    if op.endswith("/designations"):
        return t["case_id"] in [c["case_id"] for c in body]
    return t["order_id"] in [o["id"] for o in body]


def test_the_designation_list_is_read_by_exactly_the_roles_that_may_designate():
    def allowed(op: str) -> set[str]:
        return {PRINCIPALS[who][1] for who, want in RULES[op][1].items() if want != 403}

    designators = allowed("POST /routing/v1/cases/{case_id}/designate")
    assert allowed("GET /routing/v1/designations") == designators == set(access.DESIGNATION_READERS)
    assert "street_dispatcher" not in access.DESIGNATION_READERS


def test_every_endpoint_has_a_rule(m):
    assert_every_operation_has_a_rule(m.client.app, RULES)


@pytest.mark.parametrize("op", sorted(RULES))
def test_each_principal_gets_what_the_policy_says(m, op):
    state, expected = RULES[op]
    t = target(m, state)
    wrong = []
    for who, want in expected.items():
        method, path, params, body = request(op, t, m)
        r = m.client.request(method, path, params=params, json=body, headers=headers(m, who))
        got = r.status_code
        if want in (SEES, BLIND):
            got = (SEES if listed(op, t, r) else BLIND) if r.status_code == 200 else r.status_code
        if got != want:
            wrong.append(f"{who}: expected {want}, got {got} {r.text[:120]}")
        if method != "GET" and 200 <= r.status_code < 300:
            t = target(m, state)  # it changed: the next principal gets a fresh one
    assert not wrong, "\n".join(wrong)
