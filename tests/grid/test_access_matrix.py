"""The access matrix: every operation of the grid service's OpenAPI document, asked by each kind of principal,
answers what services/grid/access.py promises. A record out of scope is 404 (its existence not revealed); a
role that may never do the act is 403."""

import pytest
from fastapi.testclient import TestClient

from services.grid.service import SPEC
from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import GRID, WORKER, P, auth, runtime_for

PRINCIPALS = {
    "worker": WORKER, "other_worker": "u-grid-worker-001002", "community": "u-community-staff-001",
    "other_community": "u-community-staff-002", "street": "u-street-dispatcher-1", "supervisor": "u-supervisor-2",
    "admin": "u-admin-1", "police": "u-department-handler-900002", "urban": "u-department-handler-900001",
    "operator": "u-operator-1", "mediator": "u-mediator-1", "resident": "u-resident-1",
}
AREA = ("worker", "other_worker", "community", "other_community", "street", "supervisor", "admin")
IN_SCOPE = ("worker", "community", "street", "supervisor", "admin")
OVERSIGHT = ("street", "supervisor", "admin")


def given(default: int, **by_name: int) -> dict[str, int]:
    return {name: by_name.get(name, default) for name in PRINCIPALS}


AREA_READ = given(403, **dict.fromkeys(AREA, 200))
SCOPED_READ = given(404, **dict.fromkeys(IN_SCOPE, 200))
OWN_PATROL = given(404, worker=200, community=403, street=403, supervisor=403, admin=403)
REGISTER_LIST = given(403, **dict.fromkeys(AREA + ("police", "urban"), 200))


def finish_open(c) -> None:
    mine = auth_of["worker"]
    for p in c.get(f"{P}/patrols", params={"limit": 200}, headers=mine).json():
        if p["status"] == "open":
            c.post(f"{P}/patrols/{p['id']}/finish", json={}, headers=mine)


def open_patrol(c, h) -> str:
    """A fresh open patrol of the worker (the one before it finished)."""
    finish_open(c)
    return c.post(f"{P}/patrols", json={}, headers=auth_of["worker"]).json()["id"]


def person(c) -> dict:
    return next(e for e in c.get(f"{P}/register/entries", params={"kind": "person"},
                                 headers=auth_of["worker"]).json() if e["category"] == "elderly_alone")


auth_of: dict[str, dict] = {}
RULES = {
    # A request's trace (shared/trace_api.py): the admins'; for anybody else it does not exist.
    f"GET {P}/admin/trace/{{correlation_id}}": (given(404, admin=200),
                                                lambda c, h: c.get(f"{P}/admin/trace/req-1", headers=h)),
    f"GET {P}/grids": (AREA_READ, lambda c, h: c.get(f"{P}/grids", headers=h)),
    f"GET {P}/register/categories": (given(200, resident=403), lambda c, h: c.get(f"{P}/register/categories",
                                                                                 headers=h)),
    f"POST {P}/patrols": (given(403, worker=201), lambda c, h: (finish_open(c), c.post(
        f"{P}/patrols", json={"grid_code": GRID}, headers=h))[1]),
    f"POST {P}/patrols/{{patrol_id}}/points": (OWN_PATROL, lambda c, h: c.post(
        f"{P}/patrols/{open_patrol(c, h)}/points", json={}, headers=h)),
    f"POST {P}/patrols/{{patrol_id}}/findings": (OWN_PATROL, lambda c, h: c.post(
        f"{P}/patrols/{open_patrol(c, h)}/findings", json={"case_ids": [str(__import__('uuid').uuid4())]},
        headers=h)),
    f"POST {P}/patrols/{{patrol_id}}/finish": (OWN_PATROL, lambda c, h: c.post(
        f"{P}/patrols/{open_patrol(c, h)}/finish", json={}, headers=h)),
    f"GET {P}/patrols/{{patrol_id}}": (SCOPED_READ, lambda c, h: c.get(f"{P}/patrols/{open_patrol(c, h)}",
                                                                       headers=h)),
    f"GET {P}/patrols": (AREA_READ, lambda c, h: c.get(f"{P}/patrols", headers=h)),
    f"GET {P}/grids/{{grid_code}}/days/{{day}}": (SCOPED_READ, lambda c, h: c.get(f"{P}/grids/{GRID}/days/2026-11-02",
                                                                                   headers=h)),
    f"POST {P}/register/entries": (given(403, worker=201, community=201), lambda c, h: c.post(
        f"{P}/register/entries", json={"kind": "building", "grid_code": GRID, "name": "玉林北路4号"}, headers=h)),
    f"GET {P}/register/entries": (REGISTER_LIST, lambda c, h: c.get(f"{P}/register/entries", headers=h)),
    f"GET {P}/register/entries/{{entry_id}}": (SCOPED_READ, lambda c, h: c.get(
        f"{P}/register/entries/{person(c)['id']}", headers=h)),
    f"PATCH {P}/register/entries/{{entry_id}}": (given(404, worker=200, community=200, street=403, supervisor=403,
                                                        admin=403), lambda c, h: (lambda e: c.patch(
        f"{P}/register/entries/{e['id']}", json={"version": e["version"], "fields": {"gender": "女"},
                                                 "active": True}, headers=h))(person(c))),
    # Another grid's worker or community: their rows name a grid out of their scope, reported row by row (422).
    f"POST {P}/register/import": (given(403, worker=200, community=200, other_worker=422, other_community=422),
                                  lambda c, h: c.post(
        f"{P}/register/import", params={"kind": "building", "grid_code": GRID, "dry_run": True},
        content="名称\n玉林北路6号\n".encode(), headers={**h, "Content-Type": "text/csv"})),
    f"POST {P}/visits": (given(403, worker=201, community=201, other_worker=404, other_community=404),
                         lambda c, h: c.post(
        f"{P}/visits", json={"person_id": person(c)["id"], "note": "一切正常"}, headers=h)),
    f"GET {P}/visits/due": (REGISTER_LIST, lambda c, h: c.get(f"{P}/visits/due", headers=h)),
    f"POST {P}/sync": (given(403, worker=200, other_worker=200, community=200, other_community=200), lambda c, h:
                       c.post(f"{P}/sync", json={"ops": [{"key": "m", "op": "patrol.start", "body": {}}]}, headers=h)),
    f"GET {P}/ledgers/{{kind}}": (AREA_READ, lambda c, h: c.get(f"{P}/ledgers/visits", params={"month": "2026-11"},
                                                                 headers=h)),
    f"GET {P}/statistics": (AREA_READ, lambda c, h: c.get(f"{P}/statistics", params={"month": "2026-11"},
                                                           headers=h)),
    f"GET {P}/audit": (given(403, admin=200), lambda c, h: c.get(f"{P}/audit", headers=h)),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    rt = runtime_for(tmp_path_factory.mktemp("grid-matrix"))
    client = TestClient(SPEC.app(rt))
    auth_of.update({name: auth(rt, user) for name, user in PRINCIPALS.items()})
    yield client
    rt.dispose()


def test_every_operation_has_a_rule(world):
    assert_every_operation_has_a_rule(world.app, RULES)


@pytest.mark.parametrize("operation", sorted(RULES))
def test_each_principal_gets_what_the_policy_says(world, operation):
    expected, call = RULES[operation]
    got = {name: call(world, auth_of[name]).status_code for name in PRINCIPALS}
    assert got == expected
