"""Who may do what at identity: every operation of its OpenAPI document × every principal (nobody, a
government system's API key, two residents, each staff role, two supervisors and two admins of
different units) × own account or another's, each with the status it must get.

The policy is services/identity/access.py's (its table says who may do what).
"""

import pytest
from fastapi.testclient import TestClient

from services.identity.seed import DEMO_PASSWORD
from shared.auth import issue_token
from shared.keys import data_keys
from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import events
from .staff import STRONG

V1 = "/identity/v1"
ANYONE, API_KEY = "anonymous", "api_key"
# (user id, role, unit): two of a role where ownership or units could matter.
PEOPLE = {
    "resident": ("u-resident-1", "resident", None),
    "resident-2": ("u-resident-2", "resident", None),
    "operator": ("u-operator-1", "operator", "510107000000000"),
    "grid_worker": ("u-grid-worker-001001", "grid_worker", "510107001001001"),
    "grid_worker-2": ("u-grid-worker-002001", "grid_worker", "510107001002001"),
    "community_staff": ("u-community-staff-001", "community_staff", "510107001001000"),
    "street_dispatcher": ("u-street-dispatcher-1", "street_dispatcher", "510107001000000"),
    "department_handler": ("u-department-handler-900001", "department_handler", "510107900001000"),
    "mediator": ("u-mediator-1", "mediator", "510107001001000"),
    "supervisor": ("u-supervisor-1", "supervisor", "510107000000000"),
    "supervisor-2": ("u-supervisor-2", "supervisor", "510107001000000"),
    "admin": ("u-admin-1", "admin", "510107000000000"),
    "admin-2": ("u-admin-2", "admin", "510107001000000"),
}
PRINCIPALS = [ANYONE, API_KEY, *PEOPLE]
ADMINS = {"admin", "admin-2"}
AUDITORS = ADMINS | {"supervisor", "supervisor-2"}
RESIDENTS = {"resident", "resident-2"}
STAFF = set(PEOPLE) - RESIDENTS
ANOTHER = "u-grid-worker-001003"  # the other account the ownership rows name (nobody in PEOPLE)


class World:
    """One runtime, each principal's credentials, and what the rows need made first."""

    def __init__(self, rt, client):
        self.rt, self.client = rt, client
        # A government system's key, and another that the rows revoke.
        self.api_key = self.new_key()["key"]
        self.key_id = self.new_key()["id"]
        self.phones = iter(f"1391234{n:04d}" for n in range(1, 10_000))

    def new_key(self) -> dict:
        made = self.client.post(f"{V1}/api-keys", json={"name": "12345热线平台", "scopes": ["cases:read"]},
                                headers=self.headers("admin"))
        assert made.status_code == 201, made.text
        return made.json()

    def headers(self, who: str) -> dict:
        if who == ANYONE:
            return {}
        if who == API_KEY:
            return {"X-API-Key": self.api_key}
        user_id, role, unit = PEOPLE[who]
        return {"Authorization": f"Bearer {issue_token(self.rt.settings, user_id, role, unit)}"}

    def own_id(self, who: str) -> str | None:
        return PEOPLE[who][0] if who in PEOPLE else None

    def link_code(self, who: str) -> tuple[str, str]:
        """A new phone and its link_phone code, asked for with the principal's own token."""
        phone = next(self.phones)
        sent = self.client.post(f"{V1}/sms-codes", json={"phone": phone, "purpose": "link_phone"},
                                headers=self.headers(who))
        if sent.status_code != 202:
            return phone, "000000"
        d = events(self.rt, "identity.code.requested")[-1]["data"]
        return phone, data_keys(self.rt.settings).open(d["code_sealed"], f"sms-code:{d['challenge_id']}")


def only(allowed: set[str], ok: int, *, denied: int = 403, anonymous: int = 401):
    """`ok` for the allowed principals, 401 without credentials, `denied` for everyone else."""
    return lambda who, target: ok if who in allowed else anonymous if who in (ANYONE, API_KEY) else denied


def everyone(status: int):
    return lambda who, target: status


def signed_in(ok: int):
    return only(set(PEOPLE), ok)


def csv(*rows: str) -> bytes:
    return "\n".join(["username,display_name,role,unit_codes,active", *rows]).encode()


# "METHOD path" → (how to ask, given the world, the principal and the target: own or another's
# account; the status each gets). A row without targets ignores them.
RULES = {
    "GET /identity/.well-known/jwks.json": (lambda w, who, t: ("GET", "/identity/.well-known/jwks.json", {}),
                                           everyone(200)),
    f"POST {V1}/tokens/refresh": (lambda w, who, t: ("POST", f"{V1}/tokens/refresh",
                                                     {"json": {"refresh_token": "rt_not-a-token-of-anyone"}}),
                                  everyone(401)),
    f"POST {V1}/sign-out": (lambda w, who, t: ("POST", f"{V1}/sign-out", {}), signed_in(204)),
    f"GET {V1}/me": (lambda w, who, t: ("GET", f"{V1}/me", {}), signed_in(200)),
    f"GET {V1}/oidc/providers": (lambda w, who, t: ("GET", f"{V1}/oidc/providers", {}), everyone(200)),
    # No provider is configured here: every name is unknown, to everyone alike.
    f"GET {V1}/oidc/{{provider}}/authorize": (
        lambda w, who, t: ("GET", f"{V1}/oidc/city/authorize",
                           {"params": {"redirect_uri": "https://grid.example.cn/cb"}, "follow_redirects": False}),
        everyone(404)),
    f"POST {V1}/oidc/{{provider}}/token": (
        lambda w, who, t: ("POST", f"{V1}/oidc/city/token", {"json": {"code": "c", "state": "s"}}),
        everyone(404)),
    # A code to sign in is anyone's to ask for; a code to link a phone needs a signed-in caller.
    f"POST {V1}/sms-codes": (lambda w, who, t: ("POST", f"{V1}/sms-codes",
                                                {"json": {"phone": next(w.phones), "purpose": "link_phone"}}),
                             signed_in(202)),
    f"POST {V1}/tokens/sms": (lambda w, who, t: ("POST", f"{V1}/tokens/sms",
                                                 {"json": {"phone": next(w.phones), "code": "000000"}}),
                              everyone(401)),
    # The test client is no loopback address: the development inbox is nobody's.
    f"GET {V1}/dev/sms-codes": (lambda w, who, t: ("GET", f"{V1}/dev/sms-codes", {"params": {"phone": "13800000001"}}),
                                everyone(404)),
    # WeChat sign-in is off in the shipped configuration.
    f"POST {V1}/tokens/wechat": (lambda w, who, t: ("POST", f"{V1}/tokens/wechat", {"json": {"code": "wx"}}),
                                 everyone(503)),
    # A resident links a phone she proved to her own account; staff link none.
    f"POST {V1}/me/phone": (
        lambda w, who, t: ("POST", f"{V1}/me/phone",
                           {"json": dict(zip(("phone", "code"), w.link_code(who), strict=True))}),
        only(RESIDENTS, 200)),
    f"POST {V1}/tokens/password": (
        lambda w, who, t: ("POST", f"{V1}/tokens/password",
                           {"json": {"username": f"nobody-{who}", "password": "Wrong-Password-1"}}),
        everyone(401)),
    # One's own password, with the current one; a resident has none.
    f"POST {V1}/me/password": (
        lambda w, who, t: ("POST", f"{V1}/me/password",
                           {"json": {"current_password": DEMO_PASSWORD, "new_password": STRONG}}),
        lambda who, t: 204 if who in STAFF else 422 if who in RESIDENTS else 401),
    f"PUT {V1}/users/{{user_id}}/password": (
        lambda w, who, t: ("PUT", f"{V1}/users/{t}/password", {"json": {"password": STRONG}}),
        only(ADMINS, 204)),
    f"GET {V1}/users": (lambda w, who, t: ("GET", f"{V1}/users", {}), only(ADMINS, 200)),
    f"POST {V1}/users": (
        lambda w, who, t: ("POST", f"{V1}/users", {"json": {"username": f"new.{who}", "display_name": "新同事",
                                                            "role": "grid_worker",
                                                            "unit_codes": ["510107001001001"]}}),
        only(ADMINS, 201)),
    f"POST {V1}/users/import": (
        lambda w, who, t: ("POST", f"{V1}/users/import",
                           {"content": csv("zhao.liu,赵六,grid_worker,510107001001001,是"),
                            "params": {"dry_run": "true"}, "headers": {"Content-Type": "text/csv"}}),
        only(ADMINS, 200)),
    f"GET {V1}/users/{{user_id}}": (lambda w, who, t: ("GET", f"{V1}/users/{t}", {}), only(ADMINS, 200)),
    # A new name for oneself or another: the directory is the admins' (one's own too: /me is read-only).
    f"PATCH {V1}/users/{{user_id}}": (
        lambda w, who, t: ("PATCH", f"{V1}/users/{t}", {"json": {"display_name": "改名"}}),
        only(ADMINS, 200)),
    f"GET {V1}/api-keys": (lambda w, who, t: ("GET", f"{V1}/api-keys", {}), only(ADMINS, 200)),
    f"POST {V1}/api-keys": (
        lambda w, who, t: ("POST", f"{V1}/api-keys", {"json": {"name": "公安系统", "scopes": ["cases:read"]}}),
        only(ADMINS, 201)),
    f"DELETE {V1}/api-keys/{{key_id}}": (lambda w, who, t: ("DELETE", f"{V1}/api-keys/{w.key_id}", {}),
                                         only(ADMINS, 204)),
    # A bearer token is no API key.
    f"GET {V1}/api-client": (lambda w, who, t: ("GET", f"{V1}/api-client", {}),
                             lambda who, t: 200 if who == API_KEY else 401),
    # Whoever's attempts, one's own included: the trail is the auditors'.
    f"GET {V1}/sign-in-attempts": (lambda w, who, t: ("GET", f"{V1}/sign-in-attempts", {"params": {"user_id": t}}),
                                   only(AUDITORS, 200)),
    # Identity's trail tells who signed in when and from where: the admins' alone.
    f"GET {V1}/audit": (lambda w, who, t: ("GET", f"{V1}/audit", {"params": {"subject_id": t}}),
                        only(ADMINS, 200)),
    # A request's trace (shared/trace_api.py): the admins'; for anybody else it does not exist.
    f"GET {V1}/admin/trace/{{correlation_id}}": (lambda w, who, t: ("GET", f"{V1}/admin/trace/req-1", {}),
                                                 only(ADMINS, 200, denied=404)),
}
# Rows whose request names an account: asked for one's own and for another's.
OWNED = {f"PUT {V1}/users/{{user_id}}/password", f"GET {V1}/users/{{user_id}}", f"PATCH {V1}/users/{{user_id}}",
         f"GET {V1}/sign-in-attempts", f"GET {V1}/audit"}


@pytest.fixture
def world(rt, client):
    return World(rt, client)


def test_every_operation_has_a_rule(client):
    assert_every_operation_has_a_rule(client.app, RULES)


def cases():
    for op in RULES:
        for who in PRINCIPALS:
            targets = ("own", "another") if op in OWNED else ("-",)
            for target in targets:
                yield op, who, target


def test_each_principal_gets_the_status_the_policy_gives(world):
    """One runtime for the whole matrix (not one per cell): the rows are made not to disturb each
    other (each asks with its own phone or name, or changes what no other row reads)."""
    wrong = []
    for op, who, target in cases():
        ask, expect = RULES[op]
        account = (world.own_id(who) or ANOTHER) if target == "own" else ANOTHER
        method, url, kwargs = ask(world, who, account)
        kwargs = dict(kwargs)
        kwargs["headers"] = {**world.headers(who), **kwargs.get("headers", {})}
        response = world.client.request(method, url, **kwargs)
        wanted = expect(who, target)
        if response.status_code != wanted:
            wrong.append(f"{op} as {who} ({target}): {response.status_code}, expected {wanted} {response.text[:120]}")
    assert wrong == []


def test_what_a_signed_in_person_reads_of_themself_is_their_own(world):
    for who in PEOPLE:
        me = world.client.get(f"{V1}/me", headers=world.headers(who))
        assert me.status_code == 200 and me.json()["id"] == world.own_id(who)


def test_an_admin_may_rename_themself_but_neither_disable_themself_nor_change_their_own_role(world):
    own = f"{V1}/users/u-admin-2"
    auth = world.headers("admin-2")
    for body in ({"active": False}, {"role": "supervisor"}):
        r = world.client.patch(own, json=body, headers=auth)
        assert r.status_code == 409 and r.json()["error"]["code"] == "user.own_account"
    assert world.client.patch(own, json={"display_name": "改名"}, headers=auth).status_code == 200


def test_a_resident_signing_out_ends_her_own_sign_in_only(rt, client):
    """No operation names another's sign-in: signing out is the token's own session."""
    mine = TestClient(client.app)
    pair = {}
    for who, phone in (("mine", "13912340001"), ("hers", "13912340002")):
        assert mine.post(f"{V1}/sms-codes", json={"phone": phone}).status_code == 202
        d = events(rt, "identity.code.requested")[-1]["data"]
        code = data_keys(rt.settings).open(d["code_sealed"], f"sms-code:{d['challenge_id']}")
        pair[who] = mine.post(f"{V1}/tokens/sms", json={"phone": phone, "code": code}).json()
    bearer = {who: {"Authorization": f"Bearer {p['access_token']}"} for who, p in pair.items()}
    assert mine.post(f"{V1}/sign-out", headers=bearer["mine"]).status_code == 204
    assert mine.get(f"{V1}/me", headers=bearer["mine"]).status_code == 401
    hers = mine.get(f"{V1}/me", headers=bearer["hers"])
    assert hers.status_code == 200 and hers.json()["id"] == pair["hers"]["user_id"]
