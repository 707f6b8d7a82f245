"""The access matrix: every operation of selfgov's OpenAPI document, asked by each kind of principal, answers
what services/selfgov/access.py promises. A matter, a notice or a roster out of the caller's area is 404 (the
same as none); a reader doing a manager's act is 403."""

import itertools
from datetime import date, timedelta

import pytest

from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import COMMUNITY, auth, staff
from .helpers import HOUSEHOLD_2, RESIDENT, P, convened, on_agenda, proposed, publication_over, resolved, started

PRINCIPALS = {
    "raiser": (RESIDENT, "resident"),  # raised the matter; a representative on the roster
    "member": (HOUSEHOLD_2, "resident"),  # on the roster
    "outsider": ("u-outsider", "resident"),  # on no roster
    "staff": ("u-community-staff-001", "community_staff"),
    "other_staff": ("u-community-staff-002", "community_staff"),  # the other community
    "street": ("u-street-1", "street_dispatcher"),
    "supervisor": ("u-supervisor-2", "supervisor"),
    "admin": ("u-admin-1", "admin"),
    "operator": ("u-operator-1", "operator"),
    "grid_worker": ("u-grid-worker-001001", "grid_worker"),
}
STRANGERS = ("outsider", "other_staff", "operator", "grid_worker")
MANAGERS = ("staff", "street")


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PRINCIPALS, status)


def on_matter(managers: int, residents: int, readers: int) -> dict[str, int]:
    return {**dict.fromkeys(STRANGERS, 404), "raiser": residents, "member": residents, "supervisor": readers,
            "admin": readers, **dict.fromkeys(MANAGERS, managers)}


READ = on_matter(200, 200, 200)
MANAGE = on_matter(200, 403, 403)
# Another community's staff keep rosters and notices, but not this community's: out of scope, 404.
KEEPERS = {**everyone(403), **dict.fromkeys(MANAGERS, 200), "other_staff": 404}
NOTICE_READ = {**on_matter(200, 200, 200)}
NOTICE_MANAGE = {**on_matter(200, 403, 403)}
FIGURES = {**everyone(200), "raiser": 403, "member": 403, "outsider": 403, "operator": 403, "grid_worker": 403,
           "other_staff": 200}
_phones = itertools.count(13600000000)
DUE = (date.today() + timedelta(days=30)).isoformat()


def _meeting_started(c, rt):
    matter = on_agenda(c, rt)
    meeting = convened(c, rt, matter)
    started(rt, meeting)
    return matter, meeting


def _publicizing(c, rt):
    matter = resolved(c, rt)
    objection = c.post(f"{P}/matters/{matter}/objections", headers=auth(rt, HOUSEHOLD_2),
                       json={"text": "有异议"}).json()["id"]
    return matter, objection


def _implementing(c, rt):
    matter = resolved(c, rt)
    publication_over(rt, matter)
    tasks = c.post(f"{P}/matters/{matter}/tasks", headers=staff(rt), json={"tasks": [
        {"title": "施工", "owner": "物业", "due_on": DUE}, {"title": "验收", "owner": "社区", "due_on": DUE}]}).json()
    return matter, tasks[0]["id"]


def _notice(c, rt):
    return c.post(f"{P}/notices", headers=staff(rt), json={"community_code": COMMUNITY, "category": "affairs",
                                                           "title": "通知", "body": "正文"}).json()["id"]


def _seconded(c, rt):
    matter = proposed(c, rt)
    c.post(f"{P}/matters/{matter}/seconds", headers=auth(rt, "u-rep-4"), json={})
    return matter


M = P + "/matters/{matter_id}"
N = P + "/notices/{notice_id}"
# operation → (setup, fresh state for every principal, expected per principal, the request)
RULES = {
    # A request's trace (shared/trace_api.py): the admins'; for anybody else it does not exist.
    f"GET {P}/admin/trace/{{correlation_id}}": (None, False, {**everyone(404), "admin": 200},
                                                lambda c, s, h: c.get(f"{P}/admin/trace/req-1", headers=h)),
    f"GET {P}/audit": (None, False, {**everyone(403), "staff": 200, "street": 200, "other_staff": 200, "admin": 200},
                       lambda c, s, h: c.get(f"{P}/audit", headers=h)),
    f"GET {P}/communities": (None, False, everyone(200), lambda c, s, h: c.get(f"{P}/communities", headers=h)),
    f"GET {P}/stages": (None, False, everyone(200), lambda c, s, h: c.get(f"{P}/stages", headers=h)),
    f"GET {P}/notice-categories": (None, False, everyone(200),
                                   lambda c, s, h: c.get(f"{P}/notice-categories", headers=h)),
    f"GET {P}/ratings/form": (None, False, everyone(200), lambda c, s, h: c.get(f"{P}/ratings/form", headers=h)),
    f"GET {P}/me/memberships": (None, False, everyone(200), lambda c, s, h: c.get(f"{P}/me/memberships", headers=h)),
    f"GET {P}/matters": (None, False, everyone(200), lambda c, s, h: c.get(f"{P}/matters", headers=h)),
    f"GET {P}/notices": (None, False, everyone(200), lambda c, s, h: c.get(f"{P}/notices", headers=h)),
    f"GET {P}/communities/{{community_code}}/members": (
        None, False, KEEPERS, lambda c, s, h: c.get(f"{P}/communities/{COMMUNITY}/members", headers=h)),
    f"POST {P}/communities/{{community_code}}/members": (
        None, False, {**KEEPERS, "staff": 201, "street": 201},
        lambda c, s, h: c.post(f"{P}/communities/{COMMUNITY}/members", headers=h, json={
            "name": "新居民", "phone": str(next(_phones)), "household": "3栋101"})),
    f"POST {P}/matters": (None, False, {**everyone(403), "raiser": 201, "member": 201, "staff": 201, "street": 201,
                                         "other_staff": 404},
                          lambda c, s, h: c.post(f"{P}/matters", headers=h, json={
                              "community_code": COMMUNITY, "title": "议题", "description": "说明"})),
    f"GET {M}": (proposed, False, READ, lambda c, s, h: c.get(f"{P}/matters/{s}", headers=h)),
    f"GET {M}/timeline": (proposed, False, READ, lambda c, s, h: c.get(f"{P}/matters/{s}/timeline", headers=h)),
    f"GET {M}/meetings": (proposed, False, READ, lambda c, s, h: c.get(f"{P}/matters/{s}/meetings", headers=h)),
    f"GET {M}/objections": (proposed, False, READ, lambda c, s, h: c.get(f"{P}/matters/{s}/objections", headers=h)),
    f"GET {M}/tasks": (proposed, False, READ, lambda c, s, h: c.get(f"{P}/matters/{s}/tasks", headers=h)),
    f"POST {M}/seconds": (proposed, True, {**on_matter(422, 201, 422), "raiser": 409},  # not her own
                          lambda c, s, h: c.post(f"{P}/matters/{s}/seconds", headers=h, json={})),
    f"POST {M}/agenda": (_seconded, True, MANAGE, lambda c, s, h: c.post(f"{P}/matters/{s}/agenda", headers=h)),
    f"POST {M}/decline": (proposed, True, MANAGE,
                          lambda c, s, h: c.post(f"{P}/matters/{s}/decline", headers=h, json={"reason": "重复"})),
    f"POST {M}/meetings": (on_agenda, True, on_matter(201, 403, 403),
                           lambda c, s, h: c.post(f"{P}/matters/{s}/meetings", headers=h, json={
                               "starts_at": "2099-01-01T10:00:00+08:00", "place": "议事厅", "notice": "通知"})),
    f"POST {M}/meetings/{{meeting_id}}/record": (
        _meeting_started, True, MANAGE,
        lambda c, s, h: c.post(f"{P}/matters/{s[0]}/meetings/{s[1]}/record", headers=h, json={
            "members": 5, "attended": 5, "votes_for": 5, "votes_against": 0, "record": "记录",
            "supervisor_present": True})),
    f"POST {M}/objections": (_publicizing, True, on_matter(403, 201, 403),
                             lambda c, s, h: c.post(f"{P}/matters/{s[0]}/objections", headers=h,
                                                    json={"text": "异议"})),
    f"POST {M}/objections/{{objection_id}}/reply": (
        _publicizing, True, MANAGE,
        lambda c, s, h: c.post(f"{P}/matters/{s[0]}/objections/{s[1]}/reply", headers=h, json={"reply": "答复"})),
    f"POST {M}/tasks": (_implementing, True, on_matter(201, 403, 403),
                        lambda c, s, h: c.post(f"{P}/matters/{s[0]}/tasks", headers=h, json={
                            "tasks": [{"title": "补充", "owner": "社区", "due_on": DUE}]})),
    f"POST {M}/tasks/{{task_id}}/done": (
        _implementing, True, MANAGE,
        lambda c, s, h: c.post(f"{P}/matters/{s[0]}/tasks/{s[1]}/done", headers=h, json={"note": "完成"})),
    f"GET {P}/resolutions/{{resolution_id}}": (
        lambda c, rt: c.get(f"{P}/matters/{resolved(c, rt)}", headers=staff(rt)).json()["resolution_id"], False,
        READ, lambda c, s, h: c.get(f"{P}/resolutions/{s}", headers=h)),
    f"POST {P}/notices": (None, False, {**KEEPERS, "staff": 201, "street": 201},
                          lambda c, s, h: c.post(f"{P}/notices", headers=h, json={
                              "community_code": COMMUNITY, "category": "affairs", "title": "t", "body": "b"})),
    f"GET {N}": (_notice, False, NOTICE_READ, lambda c, s, h: c.get(f"{P}/notices/{s}", headers=h)),
    f"GET {N}/versions": (_notice, False, NOTICE_READ, lambda c, s, h: c.get(f"{P}/notices/{s}/versions", headers=h)),
    f"GET {N}/reads": (_notice, False, NOTICE_MANAGE, lambda c, s, h: c.get(f"{P}/notices/{s}/reads", headers=h)),
    f"POST {N}/corrections": (_notice, True, {**NOTICE_MANAGE, "staff": 201, "street": 201},
                              lambda c, s, h: c.post(f"{P}/notices/{s}/corrections", headers=h,
                                                     json={"body": "更正", "reason": "有误"})),
    f"POST {P}/ratings": (None, False, {**everyone(403), "raiser": 201, "member": 201},
                          lambda c, s, h: c.post(f"{P}/ratings", headers=h, json={
                              "community_code": COMMUNITY, "answers": {
                                  "cadres_diligent": 4, "affairs_open": 4, "matters_heard": 4}})),
    f"GET {P}/ratings/scores": (None, False, {**everyone(200), "operator": 403, "grid_worker": 403},
                                lambda c, s, h: c.get(f"{P}/ratings/scores", headers=h, params={"period": "2026"})),
    f"GET {P}/reports/outcomes": (None, False, FIGURES,
                                  lambda c, s, h: c.get(f"{P}/reports/outcomes", headers=h,
                                                        params={"period": "2026"})),
    f"GET {P}/reports/outcomes.csv": (None, False, FIGURES,
                                      lambda c, s, h: c.get(f"{P}/reports/outcomes.csv", headers=h,
                                                            params={"period": "2026"})),
    f"GET {P}/reports/outcomes.xlsx": (None, False, FIGURES,
                                       lambda c, s, h: c.get(f"{P}/reports/outcomes.xlsx", headers=h,
                                                             params={"period": "2026"})),
}


def test_every_endpoint_has_a_rule(client):
    assert_every_operation_has_a_rule(client.app, RULES)


@pytest.mark.parametrize("operation", sorted(RULES))
def test_each_principal_gets_what_the_policy_promises(client, rt, operation):
    setup, fresh, expected, request = RULES[operation]
    state = setup(client, rt) if setup and not fresh else None
    got = {}
    for name, (user_id, role) in PRINCIPALS.items():
        if fresh:
            state = setup(client, rt)
        got[name] = request(client, state, auth(rt, user_id, role)).status_code
    assert got == expected
