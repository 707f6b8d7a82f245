"""The Open311 endpoint's key × operation matrix: every operation of /open311 in intake's OpenAPI document,
asked with no key, a person's bearer token, an unknown, a revoked and an expired key, and a key of each
scope and area, answers what open311/access.py says: allowed, refused for the key (403), or out of reach
(404, the same as nothing there). tests/intake/test_access_matrix.py requires a rule for every operation
of intake's document in its table or in this one."""

import pytest

from tests.access_matrix import operations

from .test_open311_world import POINT, V2, build, h, listed_ids, open311_intake

OK = "ok"  # let through: a success, or a refusal by the input (400) or the state (409)
PRINCIPALS = ("none", "bearer", "unknown", "revoked", "expired", "other_scope", "creator", "platform", "community",
              "elsewhere", "district")
BAD_KEYS = ("unknown", "revoked", "expired")
READERS = ("platform", "community", "elsewhere", "district")


@pytest.fixture
def o311(tmp_path):
    yield from open311_intake(tmp_path)


def expect(default, **by_name) -> dict[str, object]:
    table = {name: default for name in PRINCIPALS}
    for name, outcome in by_name.items():
        assert name in PRINCIPALS, name
        table[name] = outcome
    return table


PUBLIC = expect(200, **{name: 403 for name in BAD_KEYS})  # no key needed; a key given must be valid
READ = expect(403, **{name: 200 for name in READERS})
NEW = {"service_code": "env.garbage", "description": "东门垃圾桶满了", **POINT}

# "METHOD path" → (how to ask it of the world, what each principal gets)
RULES = {
    f"GET {V2}/discovery.{{format}}": (lambda w: ("GET", "/discovery.json", None), PUBLIC),
    f"GET {V2}/services.{{format}}": (lambda w: ("GET", "/services.xml", None), PUBLIC),
    f"GET {V2}/services/{{service_code}}.{{format}}": (lambda w: ("GET", "/services/env.noise.json", None), PUBLIC),
    f"POST {V2}/requests.{{format}}": (lambda w: ("POST", "/requests.json", NEW),
                                        expect(403, creator=201, platform=201)),
    f"GET {V2}/requests.{{format}}": (lambda w: ("GET", "/requests.xml", None), READ),
    # Case a lies in 玉林北路社区: the community's and the district's keys read it; the platform did not file
    # it; the other street's key is out of reach.
    f"GET {V2}/requests/{{service_request_id}}.{{format}}": (
        lambda w: ("GET", f"/requests/{w.ids['a']}.json", None), {**READ, "platform": 404, "elsewhere": 404}),
    # A token is the Idempotency-Key of the key's own POST: only the platform sent it.
    f"GET {V2}/tokens/{{token}}.{{format}}": (lambda w: ("GET", f"/tokens/{w.token}.json", None),
                                               expect(403, platform=200, creator=404)),
    f"GET {V2}/servicerequestupdates.{{format}}": (lambda w: ("GET", "/servicerequestupdates.json", None), READ),
}


def _headers(world, intake, name: str) -> dict:
    if name == "none":
        return {}
    if name == "bearer":
        return intake.auth("admin")  # a person's token, the widest there is: not a key
    return h(world.secrets[name])


def _matches(status: int, outcome) -> bool:
    if outcome == OK:
        return status < 400 or status in (400, 409)
    return status == outcome


def test_every_open311_operation_has_a_rule(o311):
    ops = {op for op in operations(o311.client.app) if op.split(" ", 1)[1].startswith("/open311/")}
    assert ops == set(RULES)


def test_every_key_gets_what_the_policy_says_of_every_operation(o311):
    world = build(o311)
    wrong = []
    for operation, (ask, outcomes) in RULES.items():
        assert set(outcomes) == set(PRINCIPALS), operation
        method, path, form = ask(world)
        for name, outcome in outcomes.items():
            r = o311.client.request(method, f"{V2}{path}", data=form, headers=_headers(world, o311, name))
            if not _matches(r.status_code, outcome):
                wrong.append(f"{operation} as {name}: {r.status_code} (expected {outcome}) {r.text[:160]}")
    assert wrong == [], "\n".join(wrong)


def test_what_each_key_lists_and_reads_one_by_one_agree(o311):
    """The list and the single reads apply one rule: a key reads one by one exactly what it lists."""
    world = build(o311)
    for name in READERS:
        key = h(world.secrets[name])
        listed = listed_ids(o311.client.get(f"{V2}/requests.json", headers=key))
        one_by_one = {i for i in world.ids.values()
                      if o311.client.get(f"{V2}/requests/{i}.json", headers=key).status_code == 200}
        assert listed == one_by_one, name
