"""Who sees which case (access.py): every role's list and reads are limited to its scope, taken from
the token's role and all of its units and from what routing's events said about the case; the
resident's own cases include those filed for her by phone; out of scope is 404."""

from sqlalchemy import select

from services.intake.models import Case, Evaluation
from shared.events.routing import CaseReported
from shared.ids import unit_id

from .conftest import GRID_PATH, STREET_PATH, dispatched, resolve, work_order
from .world import DEPARTMENT_PATH, LISTS, OTHER_DEPARTMENT, OTHER_GRID, PRINCIPALS, build, headers


def listed(intake, h, **params) -> set[str]:
    r = intake.client.get("/intake/v1/cases", params={"page_size": 100, **params}, headers=h)
    assert r.status_code == 200, r.text
    return {c["id"] for c in r.json()["items"]}


def test_every_role_lists_and_reads_only_the_cases_in_its_scope(intake):
    _every_role_in_its_scope(intake)


def test_the_scope_queries_hold_on_postgresql(pg_intake):
    _every_role_in_its_scope(pg_intake)


def _every_role_in_its_scope(intake):
    world = build(intake)
    for name in PRINCIPALS:
        h = headers(intake, name)
        expected = {world.ids[k] for k in LISTS[name]}
        assert listed(intake, h) == expected, name
        for key, case_id in world.ids.items():
            status = intake.client.get(f"/intake/v1/cases/{case_id}", headers=h).status_code
            assert status == (200 if case_id in expected else 404), (name, key, status)


def test_staff_with_several_units_see_the_cases_of_each(intake):
    world = build(intake)
    both = intake.auth("grid_worker", "u-grid-worker-x", units=(OTHER_GRID, "510107001001001"))
    assert listed(intake, both) == {world.ids[k] for k in ("a", "b", "o")}
    only_first = intake.auth("grid_worker", "u-grid-worker-x", units=(OTHER_GRID,))
    assert listed(intake, only_first) == {world.ids["o"]}


def test_a_unit_that_held_an_order_keeps_seeing_the_case_after_it_was_returned(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1, "wo-1"))
    other = dispatched(case, 1, "wo-2", "武侯区城管局", minute=10, unit_path=f"/510107000000000/{OTHER_DEPARTMENT}/")
    intake.deliver(other)
    grid = intake.auth("grid_worker")
    assert intake.client.get(f"/intake/v1/cases/{case['id']}", headers=grid).status_code == 200
    assert intake.client.get(f"/intake/v1/cases/{case['id']}",
                             headers=intake.auth("department_handler", "u-department-handler-900002")
                             ).status_code == 200


def test_a_department_sees_exactly_the_cases_it_holds_or_held_an_order_for(intake):
    held = intake.submit()
    whistled = intake.submit(description="井盖缺失", category="facility.manhole")
    elsewhere = intake.submit(description="路灯不亮", category="facility.streetlight")
    intake.deliver(dispatched(held, 1, "wo-h", "武侯区住建局", unit_path=DEPARTMENT_PATH))
    intake.deliver(dispatched(whistled, 1, "wo-w"))
    intake.deliver(dispatched(elsewhere, 1, "wo-e"))
    # 吹哨报到: the department is named by its id only; that is enough (ids derive from codes)
    intake.deliver(CaseReported(**work_order(whistled, 2, "wo-w"), department_unit_id=unit_id("510107900003000"),
                                actor_id="u-department-handler-900003"))
    assert listed(intake, intake.auth("department_handler")) == {held["id"]}  # 900001
    assert listed(intake, intake.auth("department_handler", "u-department-handler-900003")) == {whistled["id"]}
    assert listed(intake, intake.auth("department_handler", "u-department-handler-900002")) == set()


def test_the_street_and_its_supervisors_see_cases_located_in_it_wherever_they_are_handled(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1, "wo-1", "武侯区城管局", unit_path=f"/510107000000000/{OTHER_DEPARTMENT}/",
                              area_path=STREET_PATH))
    for name, sees in (("street_in", True), ("supervisor_in", True), ("community_in", False), ("grid_in", False),
                       ("street_out", False), ("supervisor_out", False)):
        assert (case["id"] in listed(intake, headers(intake, name))) is sees, name
    assert case["id"] in listed(intake, intake.auth("supervisor"))  # the district's supervisor


def test_a_resident_sees_the_cases_filed_for_her_by_phone_but_never_an_anonymous_one(intake):
    mine = intake.submit(role="operator", channel="hotline", caller_phone="+86 138 1234 5678", consent=True)
    secret = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True,
                           category="safety.fraud", description="有人在小区里办讲座卖保健品给老人", anonymous=True)
    refused = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=False)
    caller = intake.auth("resident", "u-caller", phone="13812345678")
    assert listed(intake, caller) == {mine["id"]}
    view = intake.get(mine["id"], "resident", "u-caller", phone="13812345678")
    # Changed on purpose: it shows as filed for her (it was "reporter"), and she does not withdraw
    # it herself (see test_a_case_staff_filed_for_her_phone_is_shown_as_filed_for_her_...).
    assert view["relation"] == "filed_for_you" and not view["can"]["withdraw"] and view["can"]["supplement"]
    for other in (secret, refused):
        assert intake.client.get(f"/intake/v1/cases/{other['id']}", headers=caller).status_code == 404
    # another resident, or the same one without a verified phone, sees none of them
    assert listed(intake, intake.auth("resident", "u-other", phone="13900001111")) == set()
    assert listed(intake, intake.auth("resident", "u-caller")) == set()
    r = intake.client.post(f"/intake/v1/cases/{mine['id']}/withdraw", headers=caller)
    assert r.status_code == 403 and r.json()["error"]["code"] == "case.filed_for_you"
    r = intake.client.post(f"/intake/v1/cases/{mine['id']}/withdraw", headers=intake.auth("operator"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def test_a_refused_consent_keeps_no_phone_and_the_hotline_cannot_find_it(intake):
    case = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=False)
    assert case["reporter"]["phone"] is None
    with intake.rt.uow() as s:
        row = s.get(Case, case["id"])
        assert row.reporter_phone is None and row.reporter_phone_index is None and row.consent is False
    r = intake.client.post("/intake/v1/hotline/lookup", json={"phone": "13812345678"}, headers=intake.auth("operator"))
    assert r.status_code == 200 and r.json() == []


def test_naming_a_residents_account_for_a_case_filed_by_phone_is_refused(intake):
    # Changed on purpose: caller_user_id is gone; the case belongs to the caller's phone.
    r = intake.client.post("/intake/v1/cases", json={
        "category": "utility.water", "description": "来电反映停水", "channel": "hotline", "caller_phone": "13812345678",
        "consent": True, "caller_user_id": "u-resident-1"}, headers=intake.auth("operator"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "caller_user_id"
    assert listed(intake, intake.auth("resident")) == set()


def test_an_operator_reads_the_cases_she_filed_and_finds_others_only_by_the_callers_phone(intake):
    mine = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True)
    theirs = intake.submit(role="operator", user_id="u-operator-2", channel="hotline", caller_phone="13812345678",
                           consent=True)
    resident = intake.submit()
    op = intake.auth("operator")
    assert listed(intake, op) == {mine["id"]}
    for other in (theirs, resident):
        assert intake.client.get(f"/intake/v1/cases/{other['id']}", headers=op).status_code == 404
    r = intake.client.post("/intake/v1/hotline/lookup", json={"phone": "138 1234 5678"}, headers=op)
    assert {c["id"] for c in r.json()} == {mine["id"], theirs["id"]}


def test_writes_out_of_scope_are_404_and_change_nothing(intake):
    world = build(intake)
    out = headers(intake, "grid_out")
    a = world.ids["a"]
    for path, body in ((f"/cases/{a}/urgency", {"urgency": "特急"}), (f"/cases/{a}/notes", {"text": "看看"}),
                       (f"/cases/{a}/supplements", {"text": "补充"}), (f"/cases/{a}/refer", None),
                       (f"/cases/{a}/merge", {"parent_case_id": world.ids["o"]})):
        r = intake.client.post(f"/intake/v1{path}", json=body, headers=out)
        assert r.status_code == 404 and r.json()["error"]["code"] == "case.not_found", path
    # merging needs both cases in scope: the child in it, the parent not
    r = intake.client.post(f"/intake/v1/cases/{world.ids['o']}/merge", json={"parent_case_id": a},
                           headers=headers(intake, "community_out"))
    assert r.status_code == 404 and r.json()["error"]["field"] == "parent_case_id"
    with intake.rt.uow() as s:
        row = s.get(Case, a)
        assert (row.urgency, row.status) == ("一般", "dispatched")
        assert s.scalar(select(Case.status).where(Case.id == world.ids["o"])) == "dispatched"
    assert intake.events("intake.case.urgency_changed") == [] and intake.events("intake.case.merged") == []


def test_staff_filing_for_someone_by_phone_need_their_consent_on_every_channel(intake):
    body = {"category": "env.garbage", "description": "来访群众反映楼下垃圾没人收", "caller_phone": "13812345678"}
    for role, user_id, channel in (("community_staff", "u-community-staff-002", "walk_in"),
                                   ("community_staff", "u-community-staff-002", "letter"),
                                   ("street_dispatcher", None, "letter"), ("operator", None, "mailbox"),
                                   ("operator", None, "walk_in"), ("admin", None, "gov_api")):
        h = intake.auth(role, user_id)
        r = intake.client.post("/intake/v1/cases", json={**body, "channel": channel}, headers=h)
        assert r.status_code == 422, (role, channel, r.text)
        assert r.json()["error"]["code"] == "case.consent_required" and r.json()["error"]["field"] == "consent"
        refused = intake.submit(role, user_id, **body, channel=channel, consent=False)
        with intake.rt.uow() as s:
            row = s.get(Case, refused["id"])
            assert (row.reporter_phone, row.reporter_phone_index) == (None, None), (role, channel)
    # without a phone there is nobody to ask, and nothing kept
    intake.submit("community_staff", "u-community-staff-002", category="env.garbage", description="来访反映",
                  channel="walk_in")
    assert listed(intake, intake.auth("resident", "u-caller", phone="13812345678")) == set()


def test_a_case_staff_filed_for_her_phone_is_shown_as_filed_for_her_she_rates_and_reopens_it_not_withdraws_it(intake):
    staff = intake.auth("community_staff", "u-community-staff-002")
    case = intake.submit("community_staff", "u-community-staff-002", channel="walk_in", caller_phone="13812345678",
                         consent=True, description="来访群众反映楼下垃圾没人收")
    her = intake.auth("resident", "u-caller", phone="13812345678")
    r = intake.client.get("/intake/v1/cases", headers=her)
    assert [(c["id"], c["relation"]) for c in r.json()["items"]] == [(case["id"], "filed_for_you")]
    view = intake.get(case["id"], "resident", "u-caller", phone="13812345678")
    assert view["relation"] == "filed_for_you" and view["reporter"]["phone"] == "138****5678"
    assert view["can"] == {"withdraw": False, "supplement": True, "reopen": False, "evaluate": False, "join": False}
    # She did not file it: withdrawing it is asked through the door it came in.
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/withdraw", headers=her)
    assert r.status_code == 403 and r.json()["error"]["code"] == "case.filed_for_you"
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/supplements", json={"text": "是 3 栋门口"}, headers=her)
    assert r.status_code == 200
    assert [t["text"] for t in r.json()["timeline"] if t["kind"] == "supplemented"] == ["反映人补充材料：是 3 栋门口"]
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=her).status_code == 409
    # She is the requester: called back, she rates the handling and reopens it when not satisfied.
    resolve(intake, case)
    assert intake.get(case["id"], "resident", "u-caller", phone="13812345678")["can"]["evaluate"]
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation", headers=her,
                           json={"contacted": True, "solved": False, "satisfaction": "不满意"})
    assert r.status_code == 200, r.text
    with intake.rt.uow() as s:
        assert s.scalar(select(Evaluation.via).where(Evaluation.case_id == case["id"])) == "resident"
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/reopen", json={"reason_code": "not_solved"}, headers=her)
    assert r.status_code == 200 and r.json()["status"] == "reopened"
    # The staff member who filed it withdraws it on the requester's word, under her own name.
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/withdraw", json={"reason": "来访人来电撤回"}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert [t["text"] for t in r.json()["timeline"] if t["kind"] == "withdrawn"] == \
        ["工作人员已撤回诉求：来访人来电撤回"]
    [withdrawn] = intake.events("intake.case.withdrawn")
    assert withdrawn["data"]["by_id"] == "u-community-staff-002"
    # Another member of staff reaching it by her unit does not.
    other = intake.submit("community_staff", "u-community-staff-002", channel="walk_in", description="来访反映")
    intake.deliver(dispatched(other, 1, "wo-o"))
    r = intake.client.post(f"/intake/v1/cases/{other['id']}/withdraw", headers=intake.auth("community_staff"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "case.not_reporter"


def test_community_staff_see_the_cases_located_in_their_community_wherever_they_are_handled(intake):
    # Routing's dispatched event says where the case is with the finest area holding its point
    # (the grid's path); the case goes to a department of another branch of the tree.
    case = intake.submit()
    intake.deliver(dispatched(case, 1, "wo-1", "武侯区城管局", unit_path=f"/510107000000000/{OTHER_DEPARTMENT}/",
                              area_path=GRID_PATH))
    # A grid worker sees what her grid holds or held an order for (access.AREA_ROLES; as routing's).
    for name, sees in (("community_in", True), ("street_in", True), ("supervisor_in", True),
                       ("community_out", False), ("grid_in", False), ("grid_out", False), ("street_out", False),
                       ("supervisor_out", False), ("dept_in", False)):
        assert (case["id"] in listed(intake, headers(intake, name))) is sees, name
        status = intake.client.get(f"/intake/v1/cases/{case['id']}", headers=headers(intake, name)).status_code
        assert status == (200 if sees else 404), name


def test_a_dispatch_to_a_unit_as_deep_as_routing_keeps_is_applied_on_postgresql(pg_intake):
    """Routing keeps a unit's path in 400 characters (an organisation of many levels, codes up to 32);
    intake kept the case's area and its units' paths in 300, which only PostgreSQL enforced."""
    from services.intake.models import CaseUnit
    from services.routing.models import Unit

    deepest = ("/" + "5" * 32) * 12 + "/55/"
    assert len(deepest) == Unit.__table__.c.path.type.length
    case = pg_intake.submit()
    assert pg_intake.deliver(dispatched(case, 1, unit_path=deepest, area_path=deepest)) == "ack"
    with pg_intake.rt.uow() as session:
        assert session.get(Case, case["id"]).area_path == deepest
        assert session.scalars(select(CaseUnit.unit_path).where(CaseUnit.case_id == case["id"])).all() == [deepest]
