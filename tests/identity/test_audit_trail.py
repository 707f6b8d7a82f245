"""Identity's audit trail (shared/audit.py): every sign-in attempt, successful or not, is an entry
beside its sign_in_attempts row; every account or permission change and every API key issued or
revoked is one (through its event, or explicitly where no event tells it), each once; every reading
of the sign-in attempts and of the directory is one; none holds a secret or personal data; and the
chain verifies."""

import json

from sqlalchemy import select

from services.identity.models import SignInAttempt
from services.identity.seed import DEMO_PASSWORD
from services.identity.service import SPEC
from shared import audit
from shared.keys import data_keys

from .conftest import bearer, events
from .staff import STRONG, admin, headers, sign_in

V1 = "/identity/v1"
GUESS = "Guessed-Secret-771"
PHONE = "13912345678"


def entries(rt, prefix: str = "") -> list:
    table = SPEC.audit
    with rt.uow() as session:
        return [r for r in session.execute(select(table).order_by(table.c.id)).all() if r.action.startswith(prefix)]


def attempts(rt) -> list[SignInAttempt]:
    with rt.uow() as session:
        rows = session.scalars(select(SignInAttempt).order_by(SignInAttempt.id)).all()
        session.expunge_all()
        return rows


def sms_code(client, rt, phone: str) -> str:
    assert client.post(f"{V1}/sms-codes", json={"phone": phone}).status_code == 202
    d = events(rt, "identity.code.requested")[-1]["data"]
    return data_keys(rt.settings).open(d["code_sealed"], f"sms-code:{d['challenge_id']}")


def test_every_sign_in_attempt_is_an_entry_beside_its_row(client, rt):
    sign_in(client, "grid-worker-001001", GUESS)
    sign_in(client, "no-such-person", GUESS)
    sign_in(client, "grid-worker-001001")
    code = sms_code(client, rt, PHONE)
    client.post(f"{V1}/tokens/sms", json={"phone": PHONE, "code": f"{(int(code) + 1) % 10**6:06d}"})
    resident = client.post(f"{V1}/tokens/sms", json={"phone": PHONE, "code": code}).json()
    client.post(f"{V1}/sms-codes", json={"phone": "12345"})
    client.post(f"{V1}/tokens/wechat", json={"code": "wx"})  # WeChat is off here

    rows, trail = attempts(rt), entries(rt, "signin.")
    assert [e.action for e in trail] == [
        "signin.password.failed", "signin.password.failed", "signin.password.ok", "signin.sms_code.ok",
        "signin.sms.code_invalid", "signin.sms.ok", "signin.sms_code.bad_phone", "signin.wechat.wechat_disabled"]
    for row, entry in zip(rows, trail, strict=True):  # one each, side by side
        assert entry.action.startswith(f"signin.{row.method}.")
        assert json.loads(entry.detail) == {"method": row.method, "result": row.result}
        assert (entry.subject_id, entry.ip, entry.request_id) == (row.user_id, row.ip, row.request_id)
        assert entry.subject_kind == ("user" if row.user_id else None)
    # The account acts only when the attempt proved it: a failed one has no actor (anyone can type a name).
    assert [(e.actor_id, e.actor_role) for e in trail[:3]] == [
        (None, None), (None, None), ("u-grid-worker-001001", "grid_worker")]
    assert (trail[5].actor_id, trail[5].actor_role) == (resident["user_id"], "resident")
    assert trail[4].actor_id is None and trail[4].subject_id is None  # a wrong code: nobody is known yet


def test_a_password_change_and_a_linked_phone_are_the_owners_entries(client, rt):
    mine = headers(client, "grid-worker-001001")
    url = f"{V1}/me/password"
    client.post(url, json={"current_password": GUESS, "new_password": STRONG}, headers=mine)
    client.post(url, json={"current_password": DEMO_PASSWORD, "new_password": STRONG}, headers=mine)
    trail = entries(rt, "signin.password_change")
    assert [(e.action, e.actor_id, e.subject_id) for e in trail] == [
        ("signin.password_change.wrong_password", "u-grid-worker-001001", "u-grid-worker-001001"),
        ("signin.password_change.ok", "u-grid-worker-001001", "u-grid-worker-001001")]


def changes_of(rt, user_id: str) -> list[str]:
    return [e.action for e in entries(rt) if e.subject_id == user_id]


def test_each_account_change_is_one_entry(client, rt):
    auth = admin(client)
    made = client.post(f"{V1}/users", json={"username": "zhao.liu", "display_name": "赵六", "role": "grid_worker",
                                            "unit_codes": ["510107001001001"]}, headers=auth).json()
    new = made["id"]
    assert changes_of(rt, new) == ["identity.user.changed"]  # created: the event is the entry, once
    worker = headers(client, "grid-worker-001002")  # a sign-in of his, ended by the role change below
    before = len(entries(rt))
    client.patch(f"{V1}/users/u-grid-worker-001002", json={"role": "community_staff"}, headers=auth)
    client.patch(f"{V1}/users/u-grid-worker-001002", json={"active": False}, headers=auth)
    client.patch(f"{V1}/users/u-grid-worker-001002", json={"active": True}, headers=auth)
    client.patch(f"{V1}/users/u-grid-worker-001002", json={"display_name": "王芳芳"}, headers=auth)
    client.put(f"{V1}/users/u-grid-worker-001002/password", json={"password": STRONG}, headers=auth)
    after = entries(rt)[before:]
    assert [(e.action, e.subject_kind) for e in after] == [
        ("identity.user.changed", "user"), ("identity.session.revoked", "session"),  # role: his sign-in ends
        ("identity.user.changed", "user"), ("identity.user.changed", "user"),  # disabled, enabled
        ("account.renamed", "user"),  # no event tells a new name
        ("account.password_reset", "user")]
    assert {e.actor_id for e in after} == {"u-admin-1"} and {e.actor_role for e in after} == {"admin"}
    assert all(e.subject_id == "u-grid-worker-001002" for e in after if e.subject_kind == "user")
    assert client.get(f"{V1}/me", headers=worker).status_code == 401


def test_a_roster_import_is_an_entry_with_its_counts_and_a_dry_run_none(client, rt):
    auth = {**admin(client), "Content-Type": "text/csv"}
    body = ("username,display_name,role,unit_codes,active\n"
            "zhao.liu,赵六,grid_worker,510107001001001,是\n"
            "grid-worker-001001,张伟,grid_worker,510107001002001,是\n"
            "grid-worker-001003,李强,grid_worker,510107001001003,是\n").encode()
    before = len(entries(rt))
    assert client.post(f"{V1}/users/import", content=body, params={"dry_run": "true"},
                       headers=auth).status_code == 200
    assert len(entries(rt)) == before
    assert client.post(f"{V1}/users/import", content=body, headers=auth).status_code == 200
    [imported] = entries(rt, "account.roster_imported")
    assert json.loads(imported.detail) == {"total": 3, "created": 1, "updated": 1, "unchanged": 1}
    assert imported.actor_id == "u-admin-1"
    # Each user created or changed: its event, once.
    changed = [e.subject_id for e in entries(rt, "identity.user.changed")]
    assert changed.count("u-grid-worker-001001") == 1 and "u-grid-worker-001003" not in changed


def test_api_keys_issued_and_revoked_are_entries(client, rt):
    auth = admin(client)
    made = client.post(f"{V1}/api-keys", json={"name": "12345热线平台", "scopes": ["cases:read"]}, headers=auth).json()
    for _ in range(2):  # revoking twice changes nothing the second time
        assert client.delete(f"{V1}/api-keys/{made['id']}", headers=auth).status_code == 204
    trail = entries(rt, "identity.api_key")
    assert [(e.action, e.subject_kind, e.subject_id, e.actor_id) for e in trail] == [
        ("identity.api_key.changed", "api_key", made["id"], "u-admin-1")] * 2
    assert made["key"] not in "".join(e.detail or "" for e in entries(rt))


def test_reading_the_attempts_and_the_directory_is_an_entry(client, rt):
    supervisor = headers(client, "supervisor-1")
    client.get(f"{V1}/sign-in-attempts", params={"user_id": "u-grid-worker-001001", "method": "password"},
               headers=supervisor)
    client.get(f"{V1}/sign-in-attempts", headers=headers(client, "grid-worker-001001"))  # refused: no reading
    [read] = entries(rt, "read.sign_in_attempts")
    assert (read.actor_id, read.actor_role, read.subject_id) == ("u-supervisor-1", "supervisor", "u-grid-worker-001001")
    assert json.loads(read.detail) == {"filters": {"method": "password"}, "page": 1, "page_size": 50, "shown": 0}
    auth = admin(client)
    client.get(f"{V1}/users", params={"role": "grid_worker", "active": False}, headers=auth)
    client.get(f"{V1}/users/u-resident-1", headers=auth)
    [listed] = entries(rt, "read.users")
    assert json.loads(listed.detail)["filters"] == {"role": "grid_worker", "active": False}
    [one] = [e for e in entries(rt, "read.user") if e.action == "read.user"]
    assert (one.subject_kind, one.subject_id, one.actor_id) == ("user", "u-resident-1", "u-admin-1")


def test_no_entry_holds_a_secret_or_personal_data_and_the_chain_holds(client, rt):
    sign_in(client, "someone-else", GUESS)
    code = sms_code(client, rt, PHONE)
    resident = client.post(f"{V1}/tokens/sms", json={"phone": PHONE, "code": code}).json()
    auth = admin(client)
    client.post(f"{V1}/users", json={"username": "ouyang.nana", "display_name": "欧阳娜娜", "role": "grid_worker",
                                     "unit_codes": ["510107001001001"]}, headers=auth)
    key = client.post(f"{V1}/api-keys", json={"name": "公安系统", "scopes": ["cases:read"]}, headers=auth).json()
    client.get(f"{V1}/me", headers=bearer(resident["access_token"]))
    dump = "\n".join(" ".join(str(v) for v in e) for e in entries(rt))
    for value in (GUESS, DEMO_PASSWORD, "someone-else", PHONE, code, "欧阳娜娜", "张伟", key["key"],
                  resident["access_token"], resident["refresh_token"]):
        assert value not in dump, value
    count = len(entries(rt))
    with rt.uow() as session:
        assert audit.seal(session, SPEC.audit, rt.audit_keys) == count
    with rt.uow() as session:
        assert audit.verify(session, SPEC.audit, rt.audit_keys).intact
