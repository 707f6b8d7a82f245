"""Tokens nobody can forge: ES256 with key ids, checked against the identity service's JWKS
(issuer, audience, expiry, not-before, lifetime), revoked sessions and users refused everywhere,
rotation without downtime, and services mode refusing to start without a real key."""

import base64
import hashlib
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import MetaData

from shared.auth import ROLES, STAFF_ROLES, User, Verifier, access_claims, demo_token, demo_users, issue_token, sign
from shared.auth_state import AuthState, auth_tables, record_revocation
from shared.config import get_settings
from shared.db import make_engine, session_factory, unit_of_work
from shared.errors import ApiError
from shared.keys import (
    KeyConfigError,
    LocalJwks,
    RemoteJwks,
    SigningKey,
    data_keys,
    new_private_key_pem,
    public_jwk,
    signing_keys,
)

from ..loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path):
    return get_settings(var_dir=tmp_path, mode="embedded")


def verifier(settings, state=None) -> Verifier:
    return Verifier(settings, LocalJwks(signing_keys(settings).jwks()), state)


def refused(v: Verifier, token: str) -> ApiError:
    with pytest.raises(ApiError) as info:
        v.user(token)
    assert info.value.status == 401 and info.value.code == "auth.invalid_token"
    return info.value


def key_file(tmp_path: Path, name: str, development: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(new_private_key_pem(development=development), encoding="utf-8")
    path.chmod(0o600)
    return path


def signed(settings, key: SigningKey, **changes) -> str:
    claims = access_claims(settings, user_id="u-admin-1", role="admin", unit_codes=["510107000000000"],
                           session_id="s-1")
    claims.update(changes)
    return sign({k: v for k, v in claims.items() if v is not ...}, key)


# --------------------------------------------------------------------------- the round trip


def test_a_token_carries_who_what_where_and_its_sign_in(settings):
    token = issue_token(settings, "u-grid-worker-001001", "grid_worker", "510107001001001", session_id="s-9")
    user = verifier(settings).user(token)
    assert user == User(id="u-grid-worker-001001", role="grid_worker", unit_code="510107001001001",
                        unit_codes=("510107001001001",), session_id="s-9")
    assert user.is_staff
    assert not verifier(settings).user(issue_token(settings, "u-resident-1", "resident")).is_staff


def test_a_token_is_es256_with_a_key_id_an_audience_and_a_short_life(settings):
    token = issue_token(settings, "u-1", "admin")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == signing_keys(settings).active.kid
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == settings.jwt_issuer and claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.access_token_seconds == 15 * 60
    assert claims["nbf"] == claims["iat"] and claims["sid"] and claims["jti"]


def test_the_kid_is_the_keys_rfc7638_thumbprint():
    # The example key of RFC 7638 section 3.1 is RSA; for EC the same rule: SHA-256 of crv, kty, x, y.
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(key.public_key())
    core = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    assert jwk["kid"] == base64.urlsafe_b64encode(hashlib.sha256(core.encode()).digest()).rstrip(b"=").decode()


def test_issuing_refuses_an_unknown_role_and_services_mode(settings, tmp_path):
    with pytest.raises(ValueError):
        issue_token(settings, "u-1", "emperor")
    services = get_settings(var_dir=tmp_path, mode="services", signing_keys=str(key_file(tmp_path, "k.pem")))
    with pytest.raises(RuntimeError):
        issue_token(services, "u-1", "admin")


def test_staff_roles_are_every_role_but_resident():
    assert "resident" in ROLES and set(STAFF_ROLES) == set(ROLES) - {"resident"}


def test_a_demo_token_for_every_role_names_the_first_demo_user_of_it(settings):
    users = demo_users(settings)
    for role in ROLES:
        user = verifier(settings).user(demo_token(settings, role))
        expected = next(u for u in users if u["role"] == role)
        assert (user.role, user.id, user.unit_code) == (role, expected["id"], expected.get("unit_code"))
    with pytest.raises(SystemExit):
        demo_token(settings, "emperor")


def test_the_demo_has_two_users_of_every_staff_role_in_different_units(settings):
    users = demo_users(settings)
    for role in STAFF_ROLES:
        units = {u["unit_code"] for u in users if u["role"] == role}
        assert len(units) >= 2, role


# --------------------------------------------------------------------------- forgeries


def test_forged_and_broken_tokens_are_refused(settings, tmp_path):
    v = verifier(settings)
    key = signing_keys(settings).active
    now = datetime.now(UTC)
    other = SigningKey("x", ec.generate_private_key(ec.SECP256R1()), False)
    cases = {
        # What the earlier system accepted: HS256 with the secret that was in the repository.
        "old-hs256-default-secret": jwt.encode({"sub": "u-admin-1", "role": "admin", "iss": settings.jwt_issuer,
                                                "aud": settings.jwt_audience, "sid": "s", "iat": now, "nbf": now,
                                                "exp": now + timedelta(minutes=5)},
                                               "dev-only-secret-change-me-in-production", algorithm="HS256"),
        "alg-none": jwt.encode({"sub": "u-admin-1", "role": "admin"}, None, algorithm="none"),
        "another-key-unknown-kid": signed(settings, other),
        "another-key-claiming-our-kid": signed(settings, SigningKey(key.kid, other.private_key, False)),
        "expired": signed(settings, key, iat=now - timedelta(minutes=20), nbf=now - timedelta(minutes=20),
                          exp=now - timedelta(minutes=5)),
        "not-yet-valid": signed(settings, key, nbf=now + timedelta(minutes=5)),
        "a-hundred-years": signed(settings, key, exp=now + timedelta(days=36500)),
        "lifetime-over-the-maximum": signed(settings, key,
                                            exp=now + timedelta(seconds=settings.max_token_lifetime_seconds + 60)),
        "wrong-issuer": signed(settings, key, iss="someone-else"),
        "wrong-audience": signed(settings, key, aud="another-api"),
        "no-session": signed(settings, key, sid=...),
        "no-expiry": signed(settings, key, exp=...),
        "unknown-role": signed(settings, key, role="emperor"),
        "garbage": "not.a.jwt",
        "empty": "",
    }
    for name, token in cases.items():
        with pytest.raises(ApiError) as info:
            v.user(token)
        assert (info.value.status, info.value.code) == (401, "auth.invalid_token"), name


def test_a_token_of_another_deployment_is_refused(settings, tmp_path):
    elsewhere = get_settings(var_dir=tmp_path / "elsewhere", mode="embedded")
    refused(verifier(settings), issue_token(elsewhere, "u-admin-1", "admin"))


# --------------------------------------------------------------------------- rotation


def test_during_a_rotation_both_keys_are_published_and_tokens_of_either_verify(tmp_path):
    old, new = key_file(tmp_path, "old.pem"), key_file(tmp_path, "new.pem")
    before = get_settings(var_dir=tmp_path, signing_keys=str(old))
    during = get_settings(var_dir=tmp_path, signing_keys=f"{new},{old}")
    after = get_settings(var_dir=tmp_path, signing_keys=str(new))
    old_token, new_token = issue_token(before, "u-1", "admin"), issue_token(during, "u-1", "admin")
    assert jwt.get_unverified_header(new_token)["kid"] == signing_keys(during).active.kid != \
        jwt.get_unverified_header(old_token)["kid"]
    assert len(signing_keys(during).jwks()["keys"]) == 2
    assert verifier(during).user(old_token).id == verifier(during).user(new_token).id == "u-1"
    refused(verifier(after), old_token)  # the old key retired: its tokens end with it


class JwksServer(LoopbackServer):
    """The identity service's JWKS endpoint on loopback, counting fetches."""

    def __init__(self, jwks: dict):
        super().__init__()
        self.jwks, self.fetches = jwks, 0

    def handle(self, method, path, headers, body):
        self.fetches += 1
        return 200, self.jwks


def test_a_service_fetches_the_jwks_once_and_again_only_for_an_unknown_kid(tmp_path):
    old, new = key_file(tmp_path, "old.pem"), key_file(tmp_path, "new.pem")
    before = get_settings(var_dir=tmp_path, signing_keys=str(old))
    during = get_settings(var_dir=tmp_path, signing_keys=f"{new},{old}")
    with JwksServer(signing_keys(before).jwks()) as server:
        jwks_url = server.url + "/identity/.well-known/jwks.json"
        v = Verifier(before, RemoteJwks(jwks_url, min_refresh=0.0), None)
        for _ in range(3):
            v.user(issue_token(before, "u-1", "admin"))
        assert server.fetches == 1  # cached
        server.jwks = signing_keys(during).jwks()  # the rotation begins: a token of the new key arrives
        assert v.user(issue_token(during, "u-1", "admin")).id == "u-1"
        assert server.fetches == 2
        # Forged kids cannot make a service hammer identity: at most one fetch per interval.
        throttled = Verifier(before, RemoteJwks(jwks_url, min_refresh=60.0), None)
        throttled.user(issue_token(before, "u-1", "admin"))
        fetched = server.fetches
        for _ in range(5):
            refused(throttled, signed(before, SigningKey(str(uuid.uuid4()), ec.generate_private_key(ec.SECP256R1()),
                                                         False)))
        assert server.fetches == fetched  # fetched a moment ago: the unknown kids wait for the interval


def test_without_identity_and_without_cached_keys_the_answer_is_503_not_401(tmp_path):
    settings = get_settings(var_dir=tmp_path)
    v = Verifier(settings, RemoteJwks("http://127.0.0.1:9/identity/.well-known/jwks.json", timeout=0.5), None)
    with pytest.raises(ApiError) as info:
        v.user(issue_token(settings, "u-1", "admin"))
    assert (info.value.status, info.value.code) == (503, "auth.unavailable")


def test_an_api_is_ready_once_it_holds_the_keys_and_stays_ready_when_identity_goes_away(tmp_path, monkeypatch):
    settings = get_settings(var_dir=tmp_path)
    clock = [1000.0]
    monkeypatch.setattr("shared.keys.time.monotonic", lambda: clock[0])
    jwks = RemoteJwks("http://127.0.0.1:9/identity/.well-known/jwks.json", timeout=0.5)
    assert not jwks.ready()  # identity not listening yet: not ready, so no request waits on the fetch
    with JwksServer(signing_keys(settings).jwks()) as server:
        jwks.url = server.url + "/identity/.well-known/jwks.json"
        assert not jwks.ready()  # tried a moment ago: the next try waits a second
        clock[0] += 1.0
        assert jwks.ready() and server.fetches == 1
        fetched = server.fetches
        Verifier(settings, jwks, None).user(issue_token(settings, "u-1", "admin"))
        assert server.fetches == fetched  # the keys read for readiness verify the first token
    clock[0] += 400.0  # identity gone and the keys past their age: still ready, they still verify
    assert jwks.ready()


def test_an_answer_that_is_no_jwks_leaves_the_api_not_ready_and_the_request_a_503_not_a_500(tmp_path, monkeypatch):
    settings = get_settings(var_dir=tmp_path)
    clock = [1000.0]
    monkeypatch.setattr("shared.keys.time.monotonic", lambda: clock[0])
    with JwksServer(["not", "a", "jwks"]) as server:
        jwks = RemoteJwks(server.url + "/identity/.well-known/jwks.json", timeout=0.5)
        assert not jwks.ready()
        clock[0] += 60.0
        with pytest.raises(ApiError) as info:
            Verifier(settings, jwks, None).user(issue_token(settings, "u-1", "admin"))
        assert (info.value.status, info.value.code) == (503, "auth.unavailable")


# --------------------------------------------------------------------------- revocation


def auth_state(tmp_path, refresh_seconds: float):
    metadata = MetaData()
    tables = auth_tables(metadata)
    engine = make_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    metadata.create_all(engine)
    auth = AuthState(engine, tables, horizon_seconds=3600, refresh_seconds=refresh_seconds)
    yield auth, session_factory(engine), tables
    engine.dispose()


@pytest.fixture
def state(tmp_path):
    """Revocations read again at every check."""
    yield from auth_state(tmp_path, 0.0)


@pytest.fixture
def read_lately(tmp_path):
    """Revocations read within their period (60 s): what an event loop may answer without I/O."""
    yield from auth_state(tmp_path, 60.0)


def test_a_revoked_session_or_user_is_refused_and_a_later_sign_in_is_not(settings, state):
    auth, sessions, tables = state
    v = verifier(settings, auth)
    first = issue_token(settings, "u-1", "admin", session_id="s-1")
    other_session = issue_token(settings, "u-1", "admin", session_id="s-2")
    assert v.user(first).id == "u-1"
    with unit_of_work(sessions) as session:
        record_revocation(session, tables, "session", "s-1", datetime.now(UTC))
    refused(v, first)
    assert v.user(other_session).id == "u-1"  # signing out ends that sign-in only
    with unit_of_work(sessions) as session:
        record_revocation(session, tables, "user", "u-1", datetime.now(UTC))
    refused(v, other_session)  # a disabled (or deleted) user: every token issued before
    later = datetime.now(UTC) + timedelta(seconds=2)
    token = sign(access_claims(settings, user_id="u-1", role="admin", session_id="s-3", now=later),
                 signing_keys(settings).active)
    assert v.user(token).id == "u-1"  # enabled again: a new sign-in works


def test_a_token_is_verified_once_and_checked_again_in_full_once_it_expires(settings, monkeypatch):
    import shared.auth as auth

    v = verifier(settings)
    token = issue_token(settings, "u-1", "admin")
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **kw: decoded.append(1) or real_decode(*a, **kw))
    for _ in range(5):
        assert v.user(token).id == "u-1"
    assert len(decoded) == 1  # the signature and claims were checked on the first request only
    monkeypatch.setattr(auth.time, "time", lambda: expiry + auth.LEEWAY_SECONDS + 1)
    v.user(token)  # (PyJWT reads the real clock, so the token passes again: what matters is who answered)
    assert len(decoded) == 2  # past its expiry the remembered answer is not used: jwt.decode judges it


def test_the_tokens_remembered_are_bounded_and_the_oldest_forgotten_first(settings):
    v = verifier(settings)
    v.CACHED_TOKENS = 2
    tokens = [issue_token(settings, f"u-{i}", "admin") for i in range(3)]
    for token in tokens:
        v.user(token)
    assert list(v._verified) == tokens[1:]


def test_a_token_seen_lately_is_known_without_io_and_one_never_seen_or_due_a_check_is_not(settings, read_lately):
    auth, sessions, tables = read_lately
    v = verifier(settings, auth)
    token = issue_token(settings, "u-1", "admin", session_id="s-1")
    assert v.known_user(token) is None  # never verified: the event loop must hand it to a thread
    assert v.user(token).id == "u-1"
    assert v.known_user(token).id == "u-1"  # verified, the revocations read within their period
    with unit_of_work(sessions) as session:
        record_revocation(session, tables, "session", "s-1", datetime.now(UTC))
    auth.forget()  # the revocations are due a read: only a thread may tell now
    assert v.known_user(token) is None
    refused(v, token)  # and the thread, reading them, refuses the token
    with pytest.raises(ApiError):  # from then on the event loop refuses it without a thread
        v.known_user(token)


def test_a_remembered_token_of_a_revoked_session_is_refused_by_the_event_loop_too(settings, read_lately):
    auth, sessions, tables = read_lately
    v = verifier(settings, auth)
    token = issue_token(settings, "u-1", "admin", session_id="s-1")
    v.user(token)
    with unit_of_work(sessions) as session:
        record_revocation(session, tables, "user", "u-1", datetime.now(UTC))
    auth.forget()
    auth.revoked("u-2", None, datetime.now(UTC))  # another request's thread read the revocations
    with pytest.raises(ApiError) as info:
        v.known_user(token)
    assert info.value.status == 401


def test_remote_keys_older_than_their_max_age_are_not_known_without_a_fetch(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    with JwksServer(signing_keys(settings).jwks()) as server:
        jwks = RemoteJwks(server.url + "/identity/.well-known/jwks.json", min_refresh=0.0, max_age=0.0)
        v = Verifier(settings, jwks, None)
        token = issue_token(settings, "u-1", "admin")
        assert v.user(token).id == "u-1"
        assert v.known_user(token) is None  # max_age 0: every check is due a fetch, so a thread's
        fresh = RemoteJwks(server.url + "/identity/.well-known/jwks.json", min_refresh=0.0, max_age=300.0)
        v = Verifier(settings, fresh, None)
        v.user(token)
        assert v.known_user(token).id == "u-1"


def test_a_signed_in_request_takes_a_thread_for_who_it_is_only_when_the_token_is_new(settings, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    import shared.auth as auth
    from shared import errors

    app = FastAPI()
    errors.install(app)
    app.state.verifier = verifier(settings)

    @app.get("/me")
    async def me(user: auth.CurrentUser) -> dict:
        return {"id": user.id}

    hops = []
    real = auth.run_in_threadpool
    monkeypatch.setattr(auth, "run_in_threadpool", lambda fn, *a: hops.append(fn) or real(fn, *a))
    token = issue_token(settings, "u-1", "admin")
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {"id": "u-1"}
        assert client.get("/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert len(hops) == 2  # the first sight of each token; the two repeats were answered on the event loop


# --------------------------------------------------------------------------- services mode


def test_services_mode_has_no_key_of_its_own_and_refuses_a_development_one(tmp_path):
    with pytest.raises(KeyConfigError, match="CG_SIGNING_KEYS"):
        signing_keys(get_settings(var_dir=tmp_path, mode="services"))
    dev = key_file(tmp_path, "dev.pem", development=True)
    with pytest.raises(KeyConfigError, match="development"):
        signing_keys(get_settings(var_dir=tmp_path, mode="services", signing_keys=str(dev)))
    with pytest.raises(KeyConfigError, match="CG_DATA_KEYS"):
        data_keys(get_settings(var_dir=tmp_path, mode="services"))
    readable = key_file(tmp_path, "shared.pem")
    readable.chmod(0o644)
    with pytest.raises(KeyConfigError, match="chmod 600"):
        signing_keys(get_settings(var_dir=tmp_path, mode="services", signing_keys=str(readable)))
    rsa_like = tmp_path / "wrong.pem"
    rsa_like.write_text(ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    rsa_like.chmod(0o600)
    with pytest.raises(KeyConfigError, match="P-256"):
        signing_keys(get_settings(var_dir=tmp_path, mode="services", signing_keys=str(rsa_like)))


@pytest.mark.parametrize("kind", ["api", "worker"])
def test_the_identity_process_refuses_to_start_without_a_key_and_says_what_to_set(tmp_path, kind):
    env = {"PATH": "/usr/bin:/bin", "CG_MODE": "services", "CG_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "services", kind, "identity", *(["--port", "9"] if kind == "api"
                                                                                 else [])],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "CG_SIGNING_KEYS" in done.stderr and "Traceback" not in done.stderr


def test_a_key_identity_stopped_publishing_stops_verifying_within_the_jwks_max_age(tmp_path):
    old, new = key_file(tmp_path, "old.pem"), key_file(tmp_path, "new.pem")
    compromised = get_settings(var_dir=tmp_path, signing_keys=str(old))
    with JwksServer(signing_keys(get_settings(var_dir=tmp_path, signing_keys=f"{new},{old}")).jwks()) as server:
        jwks = RemoteJwks(server.url + "/identity/.well-known/jwks.json", min_refresh=0.0, max_age=0.0)
        v = Verifier(compromised, jwks, None)
        token = issue_token(compromised, "u-1", "admin")
        assert v.user(token).id == "u-1"
        server.jwks = signing_keys(get_settings(var_dir=tmp_path, signing_keys=str(new))).jwks()  # old removed
        refused(v, token)


@pytest.mark.parametrize("setting", [
    {"access_token_seconds": -5}, {"access_token_seconds": 7200}, {"jwt_audience": " "},
    {"mode": "services", "max_token_lifetime_seconds": 10**9},
    {"mode": "services", "auth_state_refresh_seconds": 86400},
    {"mode": "services", "identity_url": "http://10.9.9.9:8005"},
])
def test_settings_that_would_weaken_every_token_are_refused(tmp_path, setting):
    with pytest.raises(ValueError):
        get_settings(var_dir=tmp_path, **setting)
    assert get_settings(var_dir=tmp_path, mode="services", identity_url="https://id.example.gov.cn").mode == "services"


def test_embedded_mode_makes_its_development_key_once(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    first = signing_keys(settings).active
    assert first.development and signing_keys(settings).active.kid == first.kid
    path = tmp_path / "keys" / "signing-key.dev.pem"
    assert path.stat().st_mode & 0o777 == 0o600
