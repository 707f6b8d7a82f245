"""Notify's role × endpoint × ownership matrix (issue 11): every operation of the OpenAPI document
has a rule, and every principal gets the status the policy (services/notify/access.py) says.

Principals: both residents, one of each staff role and two of the roles whose scope is a unit (grid
workers of two communities, community staff of two communities, supervisors of the district and of
a street, two admins). Residents' tokens carry the phone they verified at identity.
"""

import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from services.notify.models import Message, PlatformUpdate
from shared.auth import issue_token
from shared.db import utcnow
from shared.ids import unit_id
from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import CACHE_KEY, deliver, loopback_config, mailed_code, messages
from .payloads import AT, GRID, assigned, dispatched, submitted, warned

V1 = "/notify/v1"
PRINCIPALS = {
    "resident-1": ("u-resident-1", "resident", None, "13800000001"),
    "resident-2": ("u-resident-2", "resident", None, "13800000002"),
    "operator": ("u-operator-1", "operator", "510107000000000", None),
    "grid-1": ("u-grid-worker-001001", "grid_worker", "510107001001001", None),
    "grid-2": ("u-grid-worker-002001", "grid_worker", "510107001002001", None),
    "community-1": ("u-community-staff-001", "community_staff", "510107001001000", None),
    "community-2": ("u-community-staff-002", "community_staff", "510107001002000", None),
    "street": ("u-street-dispatcher-1", "street_dispatcher", "510107001000000", None),
    "department": ("u-department-handler-900001", "department_handler", "510107900001000", None),
    "mediator": ("u-mediator-1", "mediator", "510107001001000", None),
    "supervisor-district": ("u-supervisor-1", "supervisor", "510107000000000", None),
    "supervisor-street": ("u-supervisor-2", "supervisor", "510107001000000", None),
    "admin-1": ("u-admin-1", "admin", "510107000000000", None),
    "admin-2": ("u-admin-2", "admin", "510107001000000", None),
}
RESIDENTS = {"resident-1", "resident-2"}
STAFF = set(PRINCIPALS) - RESIDENTS
ADMINS = {"admin-1", "admin-2"}
SUPERVISORS = {"supervisor-district", "supervisor-street"}


def everyone(status: int, **others: int) -> dict[str, int]:
    """`status` for every principal, except those named (dashes as underscores)."""
    return {name: others.get(name.replace("-", "_"), status) for name in PRINCIPALS}


def only(names: set[str], status: int, otherwise: int) -> dict[str, int]:
    return {name: status if name in names else otherwise for name in PRINCIPALS}


class World:
    """The records the matrix acts on, made afresh for each principal's call where it changes them."""

    def __init__(self, rt, client, sender, servers):
        self.rt, self.client, self.sender, self.servers = rt, client, sender, servers
        # The 12345 write-back on (to a port nothing listens on: nothing here sends one).
        rt.cache[CACHE_KEY] = loopback_config(servers, platform={
            "enabled": True, "url": "http://127.0.0.1:9/feedback", "secret": "s", "allow_http": True})
        deliver(rt, submitted(case_id="c-1"))
        deliver(rt, dispatched(case_id="c-1"))  # told: resident-1, grid worker 001001 (in the street)
        deliver(rt, dispatched(case_id="c-9", requester="u-resident-2", assignee="u-department-handler-900001"))
        deliver(rt, warned(case_id="c-1"))
        self.mine = next(m.id for m in messages(rt, channel="inbox", recipient_id="u-resident-1"))
        self.day = (AT + timedelta(hours=8)).date().isoformat()

    def headers(self, name: str) -> dict:
        uid, role, unit, phone = PRINCIPALS[name]
        return {"Authorization": f"Bearer {issue_token(self.rt.settings, uid, role, unit, phone=phone)}"}

    def dead_letter(self) -> str:
        [m] = messages(self.rt, channel="inbox", recipient_id="u-grid-worker-001001", subject_id="c-1")[:1]
        fresh = str(uuid.uuid4())
        with self.rt.uow() as session:
            row = {c.name: getattr(m, c.name) for c in Message.__table__.columns}
            session.add(Message(**{**row, "id": fresh, "channel": "sms", "status": "failed", "dead_at": utcnow(),
                                   "event_id": str(uuid.uuid4())}))
        return fresh

    def verify_own_email(self, h: dict, name: str):
        """Asks for her own address to be her email, reads the code mailed to it, sends it back."""
        address = f"{name}.verify@example.com"
        assert self.client.put(f"{V1}/me/contacts", headers=h, json={"email": address}).status_code == 200
        code = mailed_code(self.sender, self.servers, address)
        return self.client.post(f"{V1}/me/contacts/email/verify", headers=h, json={"code": code})

    def webhook(self) -> str:
        r = self.client.post(f"{V1}/webhooks", headers=self.headers("admin-1"),
                             json={"name": "12345", "url": "http://127.0.0.1:9/h", "event_patterns": ["routing.#"]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def _message(self, channel: str, recipient_id: str, status: str) -> str:
        fresh = str(uuid.uuid4())
        with self.rt.uow() as session:
            session.add(Message(id=fresh, event_id=str(uuid.uuid4()), recipient_id=recipient_id, channel=channel,
                                template="routing.case.signed", subject_kind="case", subject_id="c-1", title="t",
                                body="{}", status=status, created_at=utcnow(), attempts=1,
                                dead_at=utcnow() if status == "failed" else None))
        return fresh

    def delivery(self, status: str = "sent") -> tuple[str, str]:
        """A subscription and one of its deliveries (settled, or still queued)."""
        hook = self.webhook()
        return hook, self._message("webhook", hook, status)

    def write_back(self, status: str = "failed") -> str:
        """A write-back to the 12345 platform (given up, or still queued)."""
        fresh = self._message("platform", "platform:12345", status)
        with self.rt.uow() as session:
            session.add(PlatformUpdate(id=fresh, source="12345", external_no="GD-1", case_id="c-1",
                                       event_id=str(uuid.uuid4()), event_type="routing.case.signed", status_code="20",
                                       status_name="已签收", occurred_at=utcnow(), created_at=utcnow(), body="{}"))
        return fresh


Call = Callable[[World, dict], object]
PREFS = {"channels": ["sms"], "opt_outs": [], "quiet_start": "22:00", "quiet_end": "07:00",
         "timezone": "Asia/Shanghai", "lang": "zh", "sms_daily_limit": 10}


def own_phone(w: World, h: dict, name: str):
    phone = PRINCIPALS[name][3] or "13800000009"
    return w.client.put(f"{V1}/me/contacts", headers=h, json={"phone": phone})


# operation → [(what is tried, the call, the status of each principal)]
RULES: dict[str, list[tuple[str, Callable, dict[str, int]]]] = {
    f"GET {V1}/inbox": [("own inbox", lambda w, h, n: w.client.get(f"{V1}/inbox", headers=h), everyone(200))],
    f"GET {V1}/inbox/unread-count": [
        ("own count", lambda w, h, n: w.client.get(f"{V1}/inbox/unread-count", headers=h), everyone(200))],
    f"POST {V1}/inbox/{{message_id}}/read": [
        ("resident-1's message", lambda w, h, n: w.client.post(f"{V1}/inbox/{w.mine}/read", headers=h),
         everyone(404, resident_1=200))],
    f"GET {V1}/me/preferences": [
        ("own", lambda w, h, n: w.client.get(f"{V1}/me/preferences", headers=h), everyone(200))],
    f"PUT {V1}/me/preferences": [
        ("own", lambda w, h, n: w.client.put(f"{V1}/me/preferences", headers=h, json=PREFS), everyone(200))],
    f"GET {V1}/me/contacts": [
        ("own, masked", lambda w, h, n: w.client.get(f"{V1}/me/contacts", headers=h), everyone(200))],
    f"PUT {V1}/me/contacts": [
        # One address each: codes mailed to one address are limited whoever asks.
        ("own email (pending, a code mailed)", lambda w, h, n: w.client.put(f"{V1}/me/contacts", headers=h,
                                                                             json={"email": f"{n}@example.com"}),
         everyone(200)),
        ("own verified phone", own_phone, only(RESIDENTS, 200, 403)),
        ("another's phone", lambda w, h, n: w.client.put(f"{V1}/me/contacts", headers=h,
                                                          json={"phone": "13800000003"}),
         only(RESIDENTS, 422, 403)),
    ],
    f"POST {V1}/me/contacts/email/verify": [
        ("own pending email, the code mailed to it", lambda w, h, n: w.verify_own_email(h, n), everyone(200)),
        ("no code awaited", lambda w, h, n: w.client.post(f"{V1}/me/contacts/email/verify", headers=h,
                                                          json={"code": "123456"}), everyone(422)),
    ],
    f"POST {V1}/me/wechat-subscriptions": [
        ("own", lambda w, h, n: w.client.post(f"{V1}/me/wechat-subscriptions", headers=h,
                                              json={"template_ids": ["t-1"]}), everyone(200))],
    f"GET {V1}/messages": [
        ("a case's delivery records", lambda w, h, n: w.client.get(f"{V1}/messages", headers=h,
                                                                   params={"subject_id": "c-1"}),
         only(SUPERVISORS | ADMINS, 200, 403))],
    f"GET {V1}/admin/dead-letters": [
        ("the queue", lambda w, h, n: w.client.get(f"{V1}/admin/dead-letters", headers=h), only(ADMINS, 200, 403))],
    f"POST {V1}/admin/dead-letters/{{message_id}}/requeue": [
        ("a dead letter", lambda w, h, n: w.client.post(f"{V1}/admin/dead-letters/{w.dead_letter()}/requeue",
                                                        headers=h), only(ADMINS, 200, 403)),
        ("a message not dead", lambda w, h, n: w.client.post(f"{V1}/admin/dead-letters/{w.mine}/requeue",
                                                             headers=h), only(ADMINS, 409, 403)),
        ("no such message", lambda w, h, n: w.client.post(f"{V1}/admin/dead-letters/nope/requeue", headers=h),
         only(ADMINS, 404, 403)),
    ],
    f"GET {V1}/webhooks": [
        ("the list", lambda w, h, n: w.client.get(f"{V1}/webhooks", headers=h), only(ADMINS, 200, 403))],
    f"POST {V1}/webhooks": [
        ("subscribe", lambda w, h, n: w.client.post(f"{V1}/webhooks", headers=h, json={
            "name": "x", "url": "http://127.0.0.1:9/h", "event_patterns": ["routing.#"]}), only(ADMINS, 201, 403))],
    f"DELETE {V1}/webhooks/{{hook_id}}": [
        ("a subscription", lambda w, h, n: w.client.delete(f"{V1}/webhooks/{w.webhook()}", headers=h),
         only(ADMINS, 204, 403)),
        ("no such subscription", lambda w, h, n: w.client.delete(f"{V1}/webhooks/nope", headers=h),
         only(ADMINS, 404, 403)),
    ],
    f"GET {V1}/webhooks/{{hook_id}}/deliveries": [
        ("a subscription's deliveries", lambda w, h, n: w.client.get(
            f"{V1}/webhooks/{w.delivery()[0]}/deliveries", headers=h), only(ADMINS, 200, 403)),
        ("no such subscription", lambda w, h, n: w.client.get(f"{V1}/webhooks/nope/deliveries", headers=h),
         only(ADMINS, 404, 403)),
    ],
    f"POST {V1}/webhooks/{{hook_id}}/deliveries/{{delivery_id}}/resend": [
        ("a delivery sent", lambda w, h, n: w.client.post(
            "{}/webhooks/{}/deliveries/{}/resend".format(V1, *w.delivery()), headers=h), only(ADMINS, 200, 403)),
        ("a delivery still queued", lambda w, h, n: w.client.post(
            "{}/webhooks/{}/deliveries/{}/resend".format(V1, *w.delivery("queued")), headers=h),
         only(ADMINS, 409, 403)),
        ("another subscription's delivery", lambda w, h, n: w.client.post(
            f"{V1}/webhooks/{w.webhook()}/deliveries/{w.delivery()[1]}/resend", headers=h), only(ADMINS, 404, 403)),
    ],
    f"GET {V1}/admin/platform/orders/{{order_no}}/updates": [
        ("an order's write-backs", lambda w, h, n: (w.write_back(), w.client.get(
            f"{V1}/admin/platform/orders/GD-1/updates", headers=h))[1], only(ADMINS, 200, 403))],
    f"POST {V1}/admin/platform/updates/{{update_id}}/resend": [
        ("a write-back given up", lambda w, h, n: w.client.post(
            f"{V1}/admin/platform/updates/{w.write_back()}/resend", headers=h), only(ADMINS, 200, 403)),
        ("a write-back still queued", lambda w, h, n: w.client.post(
            f"{V1}/admin/platform/updates/{w.write_back('queued')}/resend", headers=h), only(ADMINS, 409, 403)),
        ("a message that is no write-back", lambda w, h, n: w.client.post(
            f"{V1}/admin/platform/updates/{w.mine}/resend", headers=h), only(ADMINS, 404, 403)),
    ],
    f"GET {V1}/digests/{{unit_id}}": [
        ("grid 001001's digest", lambda w, h, n: w.client.get(f"{V1}/digests/{unit_id(GRID)}", headers=h,
                                                              params={"day": w.day}),
         only({"grid-1"} | SUPERVISORS | ADMINS, 200, 403)),
        ("a department's digest", lambda w, h, n: w.client.get(f"{V1}/digests/{unit_id('510107900001000')}",
                                                               headers=h, params={"day": w.day}),
         only({"department", "supervisor-district"} | ADMINS, 200, 403)),
    ],
    f"GET {V1}/audit": [
        ("the trail", lambda w, h, n: w.client.get(f"{V1}/audit", headers=h), only(SUPERVISORS | ADMINS, 200, 403))],
    # A request's trace (shared/trace_api.py): the admins'; for anybody else it does not exist.
    f"GET {V1}/admin/trace/{{correlation_id}}": [
        ("a request's messages", lambda w, h, n: w.client.get(f"{V1}/admin/trace/req-1", headers=h),
         only(ADMINS, 200, 404))],
    # Providers' callbacks: the provider's credential, never a user's token.
    f"POST {V1}/callbacks/sms/aliyun": [
        ("a user's token only", lambda w, h, n: w.client.post(f"{V1}/callbacks/sms/aliyun", headers=h,
                                                              params={"token": "x"}, json=[]), everyone(401))],
    f"POST {V1}/callbacks/push": [
        ("a user's token only", lambda w, h, n: w.client.post(f"{V1}/callbacks/push", headers=h,
                                                              content=b"{}"), everyone(401))],
    f"GET {V1}/callbacks/wechat": [
        ("a user's token only", lambda w, h, n: w.client.get(f"{V1}/callbacks/wechat", headers=h, params={
            "signature": "x", "timestamp": "1", "nonce": "n", "echostr": "e"}), everyone(401))],
    f"POST {V1}/callbacks/wechat": [
        ("a user's token only", lambda w, h, n: w.client.post(f"{V1}/callbacks/wechat", headers=h, params={
            "signature": "x", "timestamp": "1", "nonce": "n"}, json={}), everyone(401))],
}


@pytest.fixture
def world(rt, client, sender, servers):
    return World(rt, client, sender, servers)


def test_every_endpoint_has_a_rule(client):
    assert_every_operation_has_a_rule(client.app, RULES)


def test_every_principal_gets_the_status_the_policy_says(world):
    wrong = []
    for operation, cases in RULES.items():
        for what, call, expected in cases:
            for name, status in expected.items():
                got = call(world, world.headers(name), name).status_code
                if got != status:
                    wrong.append(f"{operation} ({what}) as {name}: {got}, expected {status}")
    assert wrong == []


def test_without_a_token_every_users_endpoint_is_401(world):
    for operation in RULES:
        method, path = operation.split(" ", 1)
        if "/callbacks/" in path:
            continue
        url = path.replace("{message_id}", world.mine).replace("{hook_id}", "x").replace("{unit_id}", "x")
        for name in ("{delivery_id}", "{order_no}", "{update_id}"):
            url = url.replace(name, "x")
        assert world.client.request(method, url).status_code == 401, operation


def test_a_street_supervisor_reads_the_records_of_cases_handled_in_her_street_only(world):
    def states(name, subject):
        r = world.client.get(f"{V1}/messages", headers=world.headers(name), params={"subject_id": subject})
        assert r.status_code == 200
        return r.json()

    assert states("supervisor-street", "c-1")  # grid worker 001001 of her street was told
    assert states("supervisor-street", "c-9") == []  # only a district department was: out of her scope
    assert states("supervisor-district", "c-9") and states("admin-2", "c-9")  # the root unit's, an admin's
    assert states("admin-1", "no-such-case") == []  # out of scope and unknown look the same
    # 保密: residents' ids to admins only
    by_admin = {s["recipient_id"] for s in states("admin-1", "c-1")}
    by_supervisor = {s["recipient_id"] for s in states("supervisor-district", "c-1")}
    assert "u-resident-1" in by_admin and "u-resident-1" not in by_supervisor
    assert "u-grid-worker-001001" in by_supervisor


def test_no_supervisor_reads_the_delivery_records_of_a_mediation_dispute(rt, world):
    """人民调解法: mediation answers 404 to supervisors for a dispute; notify's records of it (who was
    told, when) are the admins' only, even where a mediator of the supervisor's subtree was told."""
    deliver(rt, assigned("d-1"))  # told: the parties and u-mediator-1 (community 001, in the street)

    def states(name: str, subject: str) -> list:
        r = world.client.get(f"{V1}/messages", headers=world.headers(name), params={"subject_id": subject})
        assert r.status_code == 200
        return r.json()

    assert states("supervisor-street", "d-1") == [] and states("supervisor-district", "d-1") == []
    assert {"u-mediator-1", "u-resident-2"} <= {s["recipient_id"] for s in states("admin-2", "d-1")}
    # Cases are unchanged: the street's supervisor still follows c-1, the district's every case.
    assert states("supervisor-street", "c-1") and states("supervisor-district", "c-9")


def test_a_staff_member_of_several_units_reads_the_digest_of_each(rt, client, world):
    from shared.auth import access_claims, sign
    from shared.keys import signing_keys

    claims = access_claims(rt.settings, user_id="u-grid-worker-001001", role="grid_worker",
                           unit_codes=("510107001002001", GRID), session_id="s-many")
    token = sign(claims, signing_keys(rt.settings).active)
    r = client.get(f"{V1}/digests/{unit_id(GRID)}", headers={"Authorization": f"Bearer {token}"},
                   params={"day": world.day})
    assert r.status_code == 200 and json.loads(r.text)


def test_a_requeued_dead_letter_is_gone_from_the_queue(world):
    dead = world.dead_letter()
    admin = world.headers("admin-1")
    assert dead in {m["id"] for m in world.client.get(f"{V1}/admin/dead-letters", headers=admin).json()}
    assert world.client.post(f"{V1}/admin/dead-letters/{dead}/requeue", headers=admin).status_code == 200
    assert dead not in {m["id"] for m in world.client.get(f"{V1}/admin/dead-letters", headers=admin).json()}
