"""Staff sign-in by username and password: argon2id, a lockout that never tells whether an account
exists, the password rules, refresh rotation and sign-out, and the audit trail without secrets."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from services.identity import config, passwords
from services.identity.models import SignInAttempt, User
from services.identity.seed import DEMO_PASSWORD
from services.identity.service import SPEC
from shared.db import utcnow
from shared.keys import blind_index

from .conftest import bearer, events
from .staff import STRONG, admin, headers, sign_in

ME = "/identity/v1/me"
MAX = config.get().password.max_failures


def user_row(rt, username: str) -> User:
    with rt.uow() as session:
        user = session.scalar(select(User).where(User.username == username))
        session.expunge(user)
        return user


def set_user(rt, username: str, **values) -> None:
    with rt.uow() as session:
        session.execute(update(User).where(User.username == username).values(**values))


# --------------------------------------------------------------------------- signing in


def test_a_demo_staff_member_signs_in_with_the_demo_password(client):
    r = sign_in(client, "grid-worker-001001")
    assert r.status_code == 200, r.text
    pair = r.json()
    assert pair["user_id"] == "u-grid-worker-001001" and pair["role"] == "grid_worker"
    assert r.headers["cache-control"] == "no-store"
    me = client.get(ME, headers=bearer(pair["access_token"])).json()
    assert me["username"] == "grid-worker-001001" and me["unit_codes"] == ["510107001001001"]
    assert me["session_id"] == pair["session_id"]


def test_the_username_is_not_case_sensitive(client):
    assert sign_in(client, "  Grid-Worker-001001 ").status_code == 200


def test_a_wrong_password_is_refused(client, rt):
    r = sign_in(client, "grid-worker-001001", "Wrong-Password-1")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "signin.failed"
    assert user_row(rt, "grid-worker-001001").failed_sign_ins == 1


class Spy:
    """Stands for the argon2 hasher and notes which hash each check was made against."""

    def __init__(self, real):
        self.real, self.checked = real, []

    def verify(self, password_hash, password):
        self.checked.append(password_hash)
        return self.real.verify(password_hash, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_an_unknown_username_answers_exactly_like_a_wrong_password(client, rt, monkeypatch):
    spy = Spy(passwords.hasher())
    dummy = passwords._dummy()
    monkeypatch.setattr(passwords, "hasher", lambda: spy)
    wrong = sign_in(client, "grid-worker-001001", "Wrong-Password-1")
    unknown = sign_in(client, "no-such-person", "Wrong-Password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": {"code": "signin.failed", "message": "账号或密码错误",
                                                        "field": None}}
    # The same argon2 work: the user's own hash for the known name, the dummy hash for the unknown one.
    assert spy.checked == [user_row(rt, "grid-worker-001001").password_hash, dummy]


def test_a_resident_cannot_sign_in_by_password(client, rt):
    # Residents have no username; even a resident given a password hash is not found by one.
    with rt.uow() as session:
        session.execute(update(User).where(User.id == "u-resident-1").values(
            username="resident-1", password_hash=passwords.hash_password(DEMO_PASSWORD)))
    r = sign_in(client, "resident-1")
    assert r.status_code == 401 and r.json()["error"]["code"] == "signin.failed"


def test_a_staff_member_without_a_password_cannot_sign_in(client, rt):
    set_user(rt, "grid-worker-001002", password_hash=None)
    r = sign_in(client, "grid-worker-001002", "")
    assert r.status_code == 422  # an empty password is not even tried
    r = sign_in(client, "grid-worker-001002", DEMO_PASSWORD)
    assert r.status_code == 401 and r.json()["error"]["code"] == "signin.failed"


# --------------------------------------------------------------------------- lockout


def test_the_account_locks_after_max_failures_and_refuses_even_the_right_password(client, rt):
    for _ in range(MAX):
        assert sign_in(client, "grid-worker-001001", "Wrong-Password-1").status_code == 401
    locked = user_row(rt, "grid-worker-001001").locked_until
    assert locked is not None and locked > utcnow() + timedelta(minutes=config.get().password.lockout_minutes - 1)
    r = sign_in(client, "grid-worker-001001")  # the right password
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "signin.locked"
    retry = int(r.headers["retry-after"])
    assert 0 < retry <= config.get().password.lockout_minutes * 60
    # Attempts while locked neither count nor extend the lock.
    assert user_row(rt, "grid-worker-001001").locked_until == locked


def test_the_lock_is_released_after_the_cool_down(client, rt):
    for _ in range(MAX):
        sign_in(client, "grid-worker-001001", "Wrong-Password-1")
    assert sign_in(client, "grid-worker-001001").status_code == 429
    move_back(rt, config.get().password.lockout_minutes)  # the cool-down passed
    assert sign_in(client, "grid-worker-001001").status_code == 200
    assert user_row(rt, "grid-worker-001001").failed_sign_ins == 0


def test_an_unknown_username_locks_after_the_same_number_of_failures(client, rt):
    for _ in range(MAX):
        r = sign_in(client, "no-such-person", "Wrong-Password-1")
        assert r.status_code == 401 and r.json()["error"]["code"] == "signin.failed"
    r = sign_in(client, "no-such-person", "Wrong-Password-1")
    assert r.status_code == 429 and r.json()["error"]["code"] == "signin.locked"
    assert 0 < int(r.headers["retry-after"]) <= config.get().password.lockout_minutes * 60
    # The cool-down passes (the failures are moved back in time): N more failures before the next lock.
    index = blind_index(rt.settings)("no-such-person", "username")
    with rt.uow() as session:
        session.execute(update(SignInAttempt).where(SignInAttempt.identifier_index == index).values(
            at=utcnow() - timedelta(minutes=config.get().password.lockout_minutes + 1)))
    for _ in range(MAX):
        assert sign_in(client, "no-such-person", "Wrong-Password-1").status_code == 401
    assert sign_in(client, "no-such-person", "Wrong-Password-1").status_code == 429


def test_a_success_resets_the_failure_count(client, rt):
    for _ in range(MAX - 1):
        sign_in(client, "grid-worker-001001", "Wrong-Password-1")
    assert user_row(rt, "grid-worker-001001").failed_sign_ins == MAX - 1
    assert sign_in(client, "grid-worker-001001").status_code == 200
    assert user_row(rt, "grid-worker-001001").failed_sign_ins == 0
    for _ in range(MAX - 1):
        assert sign_in(client, "grid-worker-001001", "Wrong-Password-1").status_code == 401
    assert sign_in(client, "grid-worker-001001").status_code == 200  # not locked: the count restarted


ELSEWHERE = ("10.20.30.40", 50000)  # a stranger's client address
HOME = ("192.0.2.7", 50000)  # where the account's owner signs in from


def from_address(rt, address) -> TestClient:
    app = SPEC.app(rt)
    app.state.verifier.state.refresh_seconds = 0
    return TestClient(app, client=address)


def move_back(rt, minutes: int) -> None:
    """Every attempt recorded so far happened `minutes` earlier (time passes)."""
    with rt.uow() as session:
        for row in session.scalars(select(SignInAttempt)):
            row.at = row.at - timedelta(minutes=minutes)


def test_failures_from_one_address_do_not_lock_the_owner_signing_in_from_another(client, rt):
    stranger = from_address(rt, ELSEWHERE)
    for _ in range(MAX):
        assert sign_in(stranger, "grid-worker-001001", "Wrong-Password-1").status_code == 401
    r = sign_in(stranger, "grid-worker-001001")  # even the right password, from there
    assert r.status_code == 429 and r.json()["error"]["code"] == "signin.locked"
    assert 0 < int(r.headers["retry-after"]) <= config.get().password.lockout_minutes * 60
    assert sign_in(client, "grid-worker-001001").status_code == 200  # the owner, from her own address
    assert sign_in(stranger, "grid-worker-001001").status_code == 429  # her success frees no other address
    # An unknown name is held exactly alike: the lock never tells whether an account exists.
    for _ in range(MAX):
        assert sign_in(stranger, "no-such-person", "Wrong-Password-1").status_code == 401
    assert sign_in(stranger, "no-such-person", "Wrong-Password-1").status_code == 429
    r = sign_in(client, "no-such-person", "Wrong-Password-1")
    assert r.status_code == 401 and r.json()["error"]["code"] == "signin.failed"


@pytest.fixture
def low_ceiling(monkeypatch):
    """The per-account ceiling lowered to two addresses' worth of failures."""
    real = config.get()
    policy = real.password.model_copy(update={"account_max_failures": 2 * MAX, "account_window_minutes": 30})
    monkeypatch.setattr(config, "get", lambda: real.model_copy(update={"password": policy}))
    return policy


def test_failures_from_many_addresses_slow_the_account_but_never_where_it_signed_in_before(rt, low_ceiling):
    owner = from_address(rt, HOME)
    assert sign_in(owner, "grid-worker-001001").status_code == 200  # she has signed in from home before
    for n in range(2):  # a botnet: each address locks itself after MAX failures
        stranger = from_address(rt, (f"198.51.100.{n + 1}", 40000))
        for _ in range(MAX):
            assert sign_in(stranger, "grid-worker-001001", "Wrong-Password-1").status_code == 401
    third = from_address(rt, ("198.51.100.3", 40000))
    for password in ("Wrong-Password-1", DEMO_PASSWORD):  # nothing is tried, the right password neither
        r = sign_in(third, "grid-worker-001001", password)
        assert r.status_code == 429 and r.json()["error"]["code"] == "signin.slowed"
        assert 0 < int(r.headers["retry-after"]) <= low_ceiling.account_window_minutes * 60
    assert sign_in(owner, "grid-worker-001001").status_code == 200  # not held back at home
    with rt.uow() as session:  # the slowed attempts are recorded, not counted as failures
        results = [a.result for a in session.scalars(select(SignInAttempt).where(
            SignInAttempt.ip == "198.51.100.3"))]
    assert results == ["signin.slowed", "signin.slowed"]
    move_back(rt, low_ceiling.account_window_minutes + 1)  # the failures leave the window: a rate, not a lock
    assert sign_in(third, "grid-worker-001001").status_code == 200


def test_an_unknown_name_is_slowed_alike(rt, low_ceiling):
    for n in range(2):
        stranger = from_address(rt, (f"198.51.100.{n + 1}", 40000))
        for _ in range(MAX):
            assert sign_in(stranger, "no-such-person", "Wrong-Password-1").status_code == 401
    r = sign_in(from_address(rt, ("198.51.100.3", 40000)), "no-such-person", "Wrong-Password-1")
    assert r.status_code == 429 and r.json()["error"]["code"] == "signin.slowed"


def test_a_disabled_user_is_refused_and_his_existing_token_too(client, rt):
    worker = headers(client, "grid-worker-001001")
    assert client.get(ME, headers=worker).status_code == 200
    r = client.patch("/identity/v1/users/u-grid-worker-001001", json={"active": False}, headers=admin(client))
    assert r.status_code == 200, r.text
    assert client.get(ME, headers=worker).status_code == 401  # identity's own revocation row
    r = sign_in(client, "grid-worker-001001")  # the right password
    assert r.status_code == 401 and r.json()["error"]["code"] == "signin.failed"


# --------------------------------------------------------------------------- tokens after a password sign-in


def test_a_refresh_token_rotates_and_its_reuse_revokes_the_session(client, rt):
    pair = sign_in(client, "grid-worker-001001").json()
    first = client.post("/identity/v1/tokens/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    newer = first.json()
    assert newer["refresh_token"] != pair["refresh_token"] and newer["session_id"] == pair["session_id"]
    again = client.post("/identity/v1/tokens/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "token.refresh_invalid"
    # The whole sign-in is revoked: its access tokens and its newest refresh token alike.
    assert client.get(ME, headers=bearer(newer["access_token"])).status_code == 401
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 401
    assert client.post("/identity/v1/tokens/refresh",
                       json={"refresh_token": newer["refresh_token"]}).status_code == 401
    revoked = events(rt, "identity.session.revoked")
    assert [e["data"]["reason"] for e in revoked] == ["refresh_reuse"]


def test_signing_out_revokes_the_access_token(client):
    pair = sign_in(client, "grid-worker-001001").json()
    auth = bearer(pair["access_token"])
    assert client.get(ME, headers=auth).status_code == 200
    assert client.post("/identity/v1/sign-out", headers=auth).status_code == 204
    assert client.get(ME, headers=auth).status_code == 401
    assert client.post("/identity/v1/tokens/refresh",
                       json={"refresh_token": pair["refresh_token"]}).status_code == 401


# --------------------------------------------------------------------------- password rules


@pytest.mark.parametrize(("password", "reasons"), [
    ("Short-1a", ["长度至少12位"]),
    ("alllowercaseletters", ["至少3类（现有1类）"]),
    ("Password-2026-x", ["常见密码"]),
    ("Grid-Worker-001001!", ["用户名"]),
    ("abc", ["长度至少12位", "至少3类（现有1类）"]),
])
def test_weak_passwords_are_refused_with_every_reason(client, rt, password, reasons):
    r = client.put("/identity/v1/users/u-grid-worker-001001/password", json={"password": password},
                   headers=admin(client))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "user.weak_password" and error["field"] == "password"
    for reason in reasons:
        assert reason in error["detail"]
    assert passwords.verify(user_row(rt, "grid-worker-001001").password_hash, DEMO_PASSWORD)  # unchanged


def test_an_admin_reset_sets_the_password_unlocks_and_ends_every_sign_in(client, rt):
    worker = headers(client, "grid-worker-001001")
    for _ in range(MAX):
        sign_in(client, "grid-worker-001001", "Wrong-Password-1")
    r = client.put("/identity/v1/users/u-grid-worker-001001/password", json={"password": STRONG},
                   headers=admin(client))
    assert r.status_code == 204, r.text
    assert client.get(ME, headers=worker).status_code == 401
    assert sign_in(client, "grid-worker-001001").status_code == 401
    assert sign_in(client, "grid-worker-001001", STRONG).status_code == 200


def test_a_resident_gets_no_password(client):
    r = client.put("/identity/v1/users/u-resident-1/password", json={"password": STRONG}, headers=admin(client))
    assert r.status_code == 422 and r.json()["error"]["code"] == "user.not_staff"


def test_changing_my_password_needs_the_current_one_and_ends_my_other_sign_ins(client, rt):
    other = headers(client, "grid-worker-001001")
    mine = headers(client, "grid-worker-001001")
    url = "/identity/v1/me/password"
    r = client.post(url, json={"current_password": "Wrong-Password-1", "new_password": STRONG}, headers=mine)
    assert r.status_code == 422 and r.json()["error"]["code"] == "user.wrong_password"
    assert user_row(rt, "grid-worker-001001").failed_sign_ins == 1  # counted like a sign-in
    r = client.post(url, json={"current_password": DEMO_PASSWORD, "new_password": "weak"}, headers=mine)
    assert r.status_code == 422 and r.json()["error"]["field"] == "new_password"
    assert "长度至少12位" in r.json()["error"]["detail"]
    r = client.post(url, json={"current_password": DEMO_PASSWORD, "new_password": STRONG}, headers=mine)
    assert r.status_code == 204, r.text
    assert client.get(ME, headers=mine).status_code == 200
    assert client.get(ME, headers=other).status_code == 401
    assert sign_in(client, "grid-worker-001001").status_code == 401
    assert sign_in(client, "grid-worker-001001", STRONG).status_code == 200


def test_changing_my_password_needs_a_token(client):
    r = client.post("/identity/v1/me/password", json={"current_password": DEMO_PASSWORD, "new_password": STRONG})
    assert r.status_code == 401


# --------------------------------------------------------------------------- the audit trail


def test_every_sign_in_attempt_is_audited_without_the_password(client, rt):
    secret = "Very-Secret-Guess-93"
    sign_in(client, "grid-worker-001001", secret)
    sign_in(client, "someone-else", secret)
    sign_in(client, "grid-worker-001001")
    with rt.uow() as session:
        rows = session.scalars(select(SignInAttempt).order_by(SignInAttempt.id)).all()
        assert [(r.method, r.result, r.user_id) for r in rows] == [
            ("password", "signin.failed", "u-grid-worker-001001"), ("password", "signin.failed", None),
            ("password", "ok", "u-grid-worker-001001")]
        # The name tried is kept only as a keyed hash.
        index = blind_index(rt.settings)
        assert rows[1].identifier_index == index("someone-else", "username")
        every = session.execute(text("SELECT * FROM sign_in_attempts"))
        dump = "\n".join(" ".join(str(v) for v in row) for row in every)
    for value in (secret, DEMO_PASSWORD, "someone-else"):  # (a user id may contain a username: no secret)
        assert value not in dump
    # Nor anywhere in the database file.
    raw = b"".join(p.read_bytes() for p in rt.settings.var_dir.glob("identity.sqlite*"))
    assert secret.encode() not in raw and DEMO_PASSWORD.encode() not in raw


def test_the_audit_trail_is_for_admins_and_supervisors(client):
    sign_in(client, "grid-worker-001001", "Wrong-Password-1")
    url = "/identity/v1/sign-in-attempts"
    supervisor = headers(client, "supervisor-1")
    r = client.get(url, params={"user_id": "u-grid-worker-001001"}, headers=supervisor)
    assert r.status_code == 200, r.text
    assert [(i["result"], i["method"]) for i in r.json()["items"]] == [("signin.failed", "password")]
    r = client.get(url, params={"result": "ok", "page_size": 1}, headers=admin(client))
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1  # the supervisor's and the admin's sign-ins
    assert r.json()["items"][0]["user_id"] == "u-admin-1"  # newest first
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.get(url, params={"since": future}, headers=supervisor).json()["total"] == 0
    assert client.get(url, params={"since": "2026-01-01T00:00:00"}, headers=supervisor).status_code == 422
    assert client.get(url, headers=headers(client, "grid-worker-001001")).status_code == 403
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("params", [
    {"page": "99999999999999999999"}, {"page": "9223372036854775807"}, {"page": "100001"},
    {"since": "0001-01-01T00:00:00+14:00"}, {"since": "9999-12-31T23:59:59-14:00"},
    {"since": "1999-12-31T23:59:59+00:00"}, {"since": "2000-01-01T00:30:00+01:00"},
    {"since": "2101-01-01T00:00:00Z"},
])
def test_a_page_or_since_out_of_range_is_refused_not_a_server_error(client, params):
    r = client.get("/identity/v1/sign-in-attempts", params=params, headers=admin(client))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == next(iter(params))


def test_the_edges_of_the_range_are_answered(client):
    url = "/identity/v1/sign-in-attempts"
    auth = admin(client)
    for params in ({"page": 100_000, "page_size": 200}, {"since": "2000-01-01T00:00:00Z"},
                   {"since": "2100-12-31T23:59:59+00:00"}, {"since": "2026-06-01T08:00:00+08:00"}):
        r = client.get(url, params=params, headers=auth)
        assert r.status_code == 200, (params, r.text)
    assert client.get(url, params={"since": "2000-01-01T00:00:00Z"}, headers=auth).json()["total"] >= 1
