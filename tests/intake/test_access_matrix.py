"""The role × endpoint × ownership matrix of intake: every operation of the OpenAPI document, asked
by a principal of every role — the case's reporter and a neighbour following it, other residents,
the operator who filed a case and another, and two of each staff role, one whose unit holds the
case and one elsewhere — answers what the policy (access.py) says: allowed, refused for the role
(403), or out of scope (404, never a hint that the case exists)."""

from datetime import timedelta

import pytest

from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import GRID_POINT
from .test_attachments import jpeg_with_gps
from .test_hotline_import import order
from .test_open311_access import RULES as OPEN311_RULES
from .test_open311_world import issue, open311_intake
from .world import PRINCIPALS, build, headers

OK = "ok"  # the policy let it through: a success, or a refusal by the case's state or the input (409/422)

RESIDENTS = {"reporter", "follower", "caller", "stranger"}
STAFF = set(PRINCIPALS) - RESIDENTS
# Staff whose unit holds (or is above) case a, or who may see everything.
IN_SCOPE = {"grid_in", "community_in", "street_in", "dept_in", "supervisor_in", "admin"}
OUT_OF_SCOPE = STAFF - IN_SCOPE  # including the operators (they filed another case) and the mediator
MERGERS = {"community_in", "street_in", "supervisor_in", "admin"}  # policy.json merge_roles, in scope
CHANNEL = {"resident": "mini_program", "operator": "hotline", "grid_worker": "grid_patrol",
           "community_staff": "walk_in", "street_dispatcher": "letter", "supervisor": "mailbox", "admin": "hotline"}


def expect(default, **by_name) -> dict[str, object]:
    table = {name: default for name in PRINCIPALS}
    for name, outcome in by_name.items():
        assert name in PRINCIPALS, name
        table[name] = outcome
    return table


def each(names, outcome) -> dict[str, object]:
    return {name: outcome for name in names}


READ_A = expect(404, reporter=200, follower=200, **each(IN_SCOPE, 200))
STAFF_ON_A = expect(404, **each(RESIDENTS, 403), **each(IN_SCOPE, OK))
REPORTER_ONLY_ON_A = expect(404, reporter=OK, follower=403, **each(IN_SCOPE, 403))
FILES_OF_A = expect(404, reporter=200, **each(IN_SCOPE, 200))  # a follower is not served the reporter's photos


# policy.json knowledge_editor_roles: the hotline centre's supervisors and admins, wherever their unit.
KNOWLEDGE_EDITORS = expect(403, supervisor_in=OK, supervisor_out=OK, admin=OK)
# Reports: those answerable for an area and admins, each over its own area (test_reports.py proves the
# area); a department, a grid worker, a mediator, an operator or a resident reads none.
REPORT_READERS = expect(403, **each({"community_in", "community_out", "street_in", "street_out", "supervisor_in",
                                     "supervisor_out", "admin"}, 200))


def report(name: str):
    return lambda w, n: ("GET", f"/reports/{name}?period=2026-Q4", None)


KNOWLEDGE = {"title": "公积金提取", "category": "consult.policy", "keywords": ["公积金"], "answer": "线上办理。"}


def new_case(name: str) -> dict:
    role = PRINCIPALS[name][0]
    body = {"category": "env.garbage", "description": "东门垃圾桶满了", **GRID_POINT,
            "channel": CHANNEL.get(role, "web")}
    if body["channel"] == "hotline":
        body |= {"caller_phone": "13900001111", "consent": True}
    return body


# "METHOD path" → (how to ask it of the world, what each principal gets). In this order: the changes
# that end a case (a merge) come last.
RULES = {
    "GET /intake/v1/cases": (lambda w, n: ("GET", "/cases", None), expect(200)),
    "POST /intake/v1/cases": (lambda w, n: ("POST", "/cases", new_case(n)),
                              expect(201, dept_in=403, dept_out=403, mediator=403)),
    "POST /intake/v1/cases/duplicates": (
        lambda w, n: ("POST", "/cases/duplicates", {"category": "env.garbage", "description": "垃圾", **GRID_POINT}),
        expect(200)),
    "GET /intake/v1/cases/{case_id}": (lambda w, n: ("GET", f"/cases/{w.ids['a']}", None), READ_A),
    "POST /intake/v1/cases/{case_id}/supplements": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/supplements", {"text": "补充一句"}),
        expect(404, reporter=OK, follower=403, **each(IN_SCOPE, OK))),
    "POST /intake/v1/cases/{case_id}/withdraw": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/withdraw", None), {**REPORTER_ONLY_ON_A, "admin": OK}),
    "POST /intake/v1/cases/{case_id}/reopen": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/reopen", {"reason_code": "other"}), REPORTER_ONLY_ON_A),
    "POST /intake/v1/cases/{case_id}/evaluation": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/evaluation",
                      {"contacted": True, "solved": True, "satisfaction": "满意"}), REPORTER_ONLY_ON_A),
    "POST /intake/v1/cases/{case_id}/join": (
        lambda w, n: ("POST", f"/cases/{w.ids['b']}/join", None), expect(403, **each(RESIDENTS, OK))),
    "POST /intake/v1/cases/{case_id}/refer": (lambda w, n: ("POST", f"/cases/{w.ids['a']}/refer", None), STAFF_ON_A),
    "POST /intake/v1/cases/{case_id}/urgency": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/urgency", {"urgency": "紧急"}), STAFF_ON_A),
    "POST /intake/v1/cases/{case_id}/notes": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/notes", {"text": "已电话沟通"}), STAFF_ON_A),
    # The 12345 platform's import and read-back take the platform's API key: a person's token, whatever her
    # role, is not one (401). What each key gets is KEY_RULES below.
    "POST /intake/v1/hotline/orders/import": (
        lambda w, n: ("POST", "/hotline/orders/import", {"orders": [order("GD-M0001")]}), expect(401)),
    "GET /intake/v1/hotline/orders/{order_no}": (lambda w, n: ("GET", "/hotline/orders/GD-M0001", None), expect(401)),
    "POST /intake/v1/hotline/lookup": (
        lambda w, n: ("POST", "/hotline/lookup", {"phone": "13812345678"}),
        expect(403, operator_own=200, operator_other=200, admin=200)),
    "GET /intake/v1/knowledge": (lambda w, n: ("GET", "/knowledge?q=社保卡", None),
                                 expect(200, **each(RESIDENTS, 403))),
    "GET /intake/v1/knowledge/{entry_id}": (lambda w, n: ("GET", "/knowledge/kb-housing-fund", None),
                                            expect(200, **each(RESIDENTS, 403))),
    "GET /intake/v1/knowledge/{entry_id}/versions/{version}": (
        lambda w, n: ("GET", "/knowledge/kb-housing-fund/versions/1", None), expect(200, **each(RESIDENTS, 403))),
    "POST /intake/v1/knowledge": (lambda w, n: ("POST", "/knowledge", KNOWLEDGE), KNOWLEDGE_EDITORS),
    "PUT /intake/v1/knowledge/{entry_id}": (
        lambda w, n: ("PUT", "/knowledge/kb-housing-fund", {**KNOWLEDGE, "base_version": 1}), KNOWLEDGE_EDITORS),
    "POST /intake/v1/knowledge/{entry_id}/retire": (
        lambda w, n: ("POST", "/knowledge/kb-rent-subsidy/retire", None), KNOWLEDGE_EDITORS),
    "POST /intake/v1/attachments": (lambda w, n: ("UPLOAD", "/attachments", jpeg_with_gps()), expect(201)),
    "GET /intake/v1/attachments/{attachment_id}": (
        lambda w, n: ("GET", f"/attachments/{w.attachment}", None), FILES_OF_A),
    "GET /intake/v1/attachments/{attachment_id}/thumbnail": (
        lambda w, n: ("GET", f"/attachments/{w.attachment}/thumbnail", None), FILES_OF_A),
    "POST /intake/v1/categories/suggest": (
        lambda w, n: ("POST", "/categories/suggest", {"description": "楼下烧烤店油烟太大"}), expect(200)),
    "GET /intake/v1/catalogue": (lambda w, n: ("GET", "/catalogue", None), expect(200)),
    "GET /intake/v1/catalogue/versions": (lambda w, n: ("GET", "/catalogue/versions", None),
                                          expect(200, **each(RESIDENTS, 403))),
    "GET /intake/v1/catalogue/versions/{version}": (lambda w, n: ("GET", "/catalogue/versions/1", None),
                                                    expect(200, **each(RESIDENTS, 403))),
    "PUT /intake/v1/catalogue": (lambda w, n: ("PUT", "/catalogue", w.catalogue),
                                 expect(403, supervisor_in=OK, supervisor_out=OK, admin=OK)),
    "GET /intake/v1/audit": (lambda w, n: ("GET", "/audit", None),
                             expect(403, supervisor_in=200, supervisor_out=200, admin=200)),
    # Traces (shared/trace_api.py, api/trace.py): the admins'; for anybody else they do not exist.
    "GET /intake/v1/admin/trace/{correlation_id}": (lambda w, n: ("GET", "/admin/trace/req-1", None),
                                                    expect(404, admin=200)),
    "GET /intake/v1/cases/{case_id}/trace": (lambda w, n: ("GET", f"/cases/{w.ids['a']}/trace", None),
                                             expect(404, admin=200)),
    **{f"GET /intake/v1/reports/{name}": (report(name), REPORT_READERS)
       for name in ("summary", "hotspots", "repeats", "unresolved")},
    "GET /intake/v1/reports/ledger": (lambda w, n: ("GET", "/reports/ledger?period=2026-11&kind=self_resolved", None),
                                        REPORT_READERS),
    "POST /intake/v1/cases/{case_id}/merge": (
        lambda w, n: ("POST", f"/cases/{w.ids['a']}/merge", {"parent_case_id": w.ids["b"]}),
        expect(404, **each(RESIDENTS, 403), grid_in=403, dept_in=403, **each(MERGERS, OK))),
}


def test_every_endpoint_has_a_rule(intake):
    # Open311 GeoReport v2 (/open311/v2, API keys rather than people) has its own matrix.
    assert_every_operation_has_a_rule(intake.client.app, {**RULES, **OPEN311_RULES})


def _ask(intake, how, h):
    method, path, body = how
    url = f"/intake/v1{path}"
    if method == "UPLOAD":
        return intake.client.post(url, content=body, headers={**h, "Content-Type": "image/jpeg"})
    return intake.client.request(method, url, json=body, headers=h)


def _matches(status: int, outcome) -> bool:
    if outcome == OK:
        return status < 400 or status in (409, 422)
    return status == outcome


def test_every_principal_gets_what_the_policy_says_of_every_operation(intake):
    world = build(intake)
    doc = intake.client.get("/intake/v1/catalogue", headers=headers(intake, "admin")).json()
    world.catalogue = {"base_version": doc.pop("version"), "catalogue": doc}
    wrong = []
    for operation, (ask, outcomes) in RULES.items():
        assert set(outcomes) == set(PRINCIPALS), operation
        for name, outcome in outcomes.items():
            r = _ask(intake, ask(world, name), headers(intake, name))
            if not _matches(r.status_code, outcome):
                wrong.append(f"{operation} as {name}: {r.status_code} (expected {outcome}) {r.text[:120]}")
    assert wrong == [], "\n".join(wrong)


def test_out_of_scope_answers_exactly_as_a_case_that_does_not_exist(intake):
    world = build(intake)
    h = headers(intake, "grid_out")
    hidden = intake.client.get(f"/intake/v1/cases/{world.ids['a']}", headers=h)
    missing = intake.client.get("/intake/v1/cases/00000000-0000-0000-0000-000000000000", headers=h)
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()


# --------------------------------------------------------------------------- the 12345 platform's keys

KEY_PRINCIPALS = ("none", "bearer", "unknown", "revoked", "expired", "open311", "importer", "other_importer")


def key_expect(default, **by_name) -> dict[str, object]:
    table = {name: default for name in KEY_PRINCIPALS}
    table.update(by_name)
    return table


# "METHOD path" → (how to ask it, what each key gets): only a key holding hotline:import imports, and it
# reads back only what it imported itself (another importer's order is the same 404 as none).
KEY_RULES = {
    "POST /intake/v1/hotline/orders/import": (
        lambda: ("POST", "/hotline/orders/import", {"orders": [order("GD-K0002")]}),
        key_expect(401, open311=403, importer=200, other_importer=200)),
    "GET /intake/v1/hotline/orders/{order_no}": (
        lambda: ("GET", "/hotline/orders/GD-K0001", None),
        key_expect(401, open311=403, importer=200, other_importer=404)),
}


@pytest.fixture
def keyed(tmp_path):
    yield from open311_intake(tmp_path)


def test_every_key_gets_what_the_policy_says_of_the_platform_import(keyed):
    secrets = {
        "unknown": "cgk_0000000000000000_nothing",
        "revoked": issue(keyed, ["hotline:import"], revoked=True),
        "expired": issue(keyed, ["hotline:import"], expires_in=timedelta(seconds=-1)),
        "open311": issue(keyed, ["cases:create", "cases:read", "cases:read_public"]),
        "importer": issue(keyed, ["hotline:import"]),
        "other_importer": issue(keyed, ["hotline:import"]),
    }
    r = keyed.client.post("/intake/v1/hotline/orders/import", json={"orders": [order("GD-K0001")]},
                          headers={"X-API-Key": secrets["importer"]})
    assert r.json()["created"] == 1, r.text
    assert set(KEY_RULES) == {op for op in RULES if "/hotline/orders" in op}
    wrong = []
    for operation, (ask, outcomes) in KEY_RULES.items():
        assert set(outcomes) == set(KEY_PRINCIPALS), operation
        method, path, body = ask()
        for name, outcome in outcomes.items():
            h = keyed.auth("admin") if name == "bearer" else {"X-API-Key": secrets[name]} if name in secrets else {}
            r = keyed.client.request(method, f"/intake/v1{path}", json=body, headers=h)
            if r.status_code != outcome:
                wrong.append(f"{operation} as {name}: {r.status_code} (expected {outcome}) {r.text[:120]}")
    assert wrong == [], "\n".join(wrong)
