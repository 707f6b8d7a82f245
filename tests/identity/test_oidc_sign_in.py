"""Staff sign-in through the city's OpenID Connect provider, against a real provider on loopback
(tests/identity/oidc_provider.py): discovery, JWKS, the code flow with PKCE, state and nonce."""

import json
import shutil
import socket
import urllib.parse
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from services.identity import config, directory
from services.identity.models import OidcState, SignInAttempt, SignInSession, User
from services.identity.oidc_client import Providers
from services.identity.service import SPEC
from shared.config import get_settings
from shared.db import utcnow
from shared.migrate import upgrade

from . import staff
from .conftest import bearer, events
from .oidc_provider import OidcProvider, s256

FRONT_END = "http://127.0.0.1:5173/signin/callback"
ROLE_MAP = {"网格员": "grid_worker", "街道调度员": "street_dispatcher", "管理员": "admin"}
SECRET_ENV = "CG_TEST_OIDC_CITY_SECRET"


def configure(tmp_path, monkeypatch, idp: OidcProvider | None, **provider) -> None:
    """data/identity.json copied with the city's provider added, pointed at by CG_IDENTITY_DATA_DIR."""
    data = tmp_path / "identity-data"
    shutil.copytree(config.DATA, data, dirs_exist_ok=True)
    raw = json.loads((data / "identity.json").read_text(encoding="utf-8"))
    raw["oidc"]["providers"] = [{
        "name": "city", "title": "市统一身份认证", "issuer": idp.issuer if idp else "http://127.0.0.1:9",
        "client_id": "grid-portal", "client_secret_env": SECRET_ENV,
        "token_auth": idp.token_auth if idp else "client_secret_basic",
        "role_map": ROLE_MAP, "allowed_redirects": [FRONT_END], **provider}]
    (data / "identity.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_IDENTITY_DATA_DIR", str(data))
    monkeypatch.setenv(SECRET_ENV, idp.client_secret if idp else "unused")
    config.get.cache_clear()


@pytest.fixture
def idp():
    with OidcProvider() as provider:
        yield provider


@pytest.fixture
def runtime(tmp_path):
    """Identity on a fresh database, built after the test configured its provider."""
    made = []

    def build():
        settings = get_settings(mode="embedded", var_dir=tmp_path)
        upgrade("identity", settings.database_url("identity"))
        rt = SPEC.runtime(settings)
        SPEC.seed(rt)
        made.append(rt)
        return rt

    yield build
    for rt in made:
        providers = rt.cache.get("identity.oidc")
        if providers is not None:
            providers.close()
        rt.dispose()
    config.get.cache_clear()  # the next test reads the shipped configuration again


@pytest.fixture
def rt(tmp_path, monkeypatch, idp, runtime):
    configure(tmp_path, monkeypatch, idp)
    return runtime()


@pytest.fixture
def client(rt):
    app = SPEC.app(rt)
    app.state.verifier.state.refresh_seconds = 0  # revocations are read on every check
    return TestClient(app)


def authorize(client, redirect_uri: str = FRONT_END, provider: str = "city"):
    return client.get(f"/identity/v1/oidc/{provider}/authorize", params={"redirect_uri": redirect_uri},
                      follow_redirects=False)


def at_provider(client) -> dict:
    """Start a sign-in and follow the browser to the provider, which approves and sends it back to
    the front end: the code and state the front end then has."""
    started = authorize(client)
    assert started.status_code == 302, started.text
    back = httpx.get(started.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    location = back.headers["location"]
    assert location.startswith(FRONT_END + "?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    return {"code": query["code"], "state": query["state"]}


def finish(client, sent_back: dict, provider: str = "city"):
    return client.post(f"/identity/v1/oidc/{provider}/token", json=sent_back)


def sign_in(client):
    return finish(client, at_provider(client))


def user_by_subject(rt, subject: str) -> User | None:
    with rt.uow() as session:
        user = session.scalar(select(User).where(User.oidc_subject == subject))
        if user is not None:
            session.expunge(user)
        return user


def attempts(rt) -> list[tuple[str, str | None]]:
    with rt.uow() as session:
        rows = session.scalars(select(SignInAttempt).where(SignInAttempt.method == "oidc")
                               .order_by(SignInAttempt.id)).all()
        return [(r.result, r.user_id) for r in rows]


def error(response) -> str:
    return response.json()["error"]["code"]


# ------------------------------------------------------------------------------------ the flow


def test_the_sign_in_page_lists_the_configured_providers(client):
    response = client.get("/identity/v1/oidc/providers")
    assert response.status_code == 200
    assert response.json() == {"providers": [{"name": "city", "title": "市统一身份认证"}]}


def test_authorize_redirects_to_the_provider_with_pkce_state_and_nonce(client, rt, idp):
    response = authorize(client)
    assert response.status_code == 302
    url = urllib.parse.urlsplit(response.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == idp.issuer + "/authorize"
    q = dict(urllib.parse.parse_qsl(url.query))
    assert q["response_type"] == "code" and q["client_id"] == "grid-portal" and q["redirect_uri"] == FRONT_END
    assert q["scope"] == "openid profile" and q["code_challenge_method"] == "S256"
    with rt.uow() as session:
        pending = session.get(OidcState, q["state"])
        assert pending.nonce == q["nonce"] and pending.redirect_uri == FRONT_END and pending.used_at is None
        assert s256(pending.code_verifier) == q["code_challenge"]
        assert 43 <= len(pending.code_verifier) <= 128
        assert pending.expires_at - pending.created_at == timedelta(minutes=10)


def test_a_staff_member_signs_in_with_the_role_and_unit_the_provider_maps(client, rt, idp):
    response = sign_in(client)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["role"] == "grid_worker" and pair["token_type"] == "Bearer"
    me = client.get("/identity/v1/me", headers=bearer(pair["access_token"])).json()
    assert me["kind"] == "staff" and me["role"] == "grid_worker" and me["unit_codes"] == ["510107001001001"]
    assert me["username"] == "zhang.wei" and me["display_name"] == "张伟"
    user = user_by_subject(rt, "cd-0001")
    assert user.id == pair["user_id"] and user.oidc_issuer == idp.issuer and user.password_hash is None
    changed = [e["data"] for e in events(rt, "identity.user.changed") if e["data"]["user_id"] == user.id]
    assert changed and changed[-1]["role"] == "grid_worker" and changed[-1]["unit_codes"] == ["510107001001001"]
    # The provider saw our client authenticate and the PKCE verifier (it checked both).
    (request,) = idp.token_requests
    assert request["method"] == "client_secret_basic" and request["form"]["redirect_uri"] == FRONT_END
    assert attempts(rt) == [("ok", user.id)]


def test_the_second_sign_in_finds_the_same_user(client, rt):
    first = sign_in(client).json()
    second = sign_in(client).json()
    assert second["user_id"] == first["user_id"] and second["session_id"] != first["session_id"]
    with rt.uow() as session:
        assert len(session.scalars(select(User).where(User.oidc_subject == "cd-0001")).all()) == 1
    # Nothing changed at the provider: nothing to tell the other services the second time.
    assert len([e for e in events(rt, "identity.user.changed") if e["data"]["user_id"] == first["user_id"]]) == 1


def test_a_role_or_unit_changed_at_the_provider_changes_the_user(client, rt, idp):
    first = sign_in(client).json()
    user_id = first["user_id"]
    idp.person |= {"role": ["未映射岗位", "街道调度员"], "unit": ["510107001000000", "510107001001000"]}
    response = sign_in(client)
    assert response.status_code == 200 and response.json()["user_id"] == user_id
    assert response.json()["role"] == "street_dispatcher"
    # The token of the old role is refused; the new sign-in's works.
    assert client.get("/identity/v1/me", headers=bearer(first["access_token"])).status_code == 401
    assert client.get("/identity/v1/me", headers=bearer(response.json()["access_token"])).status_code == 200
    user = user_by_subject(rt, "cd-0001")
    assert user.role == "street_dispatcher" and directory.units_of(user) == ["510107001000000", "510107001001000"]
    last = [e["data"] for e in events(rt, "identity.user.changed") if e["data"]["user_id"] == user_id][-1]
    assert last["role"] == "street_dispatcher" and last["unit_codes"] == ["510107001000000", "510107001001000"]


def local_user(rt, user_id: str) -> User:
    with rt.uow() as session:
        user = session.get(User, user_id)
        session.expunge(user)
        return user


def live_sessions(rt, user_id: str) -> int:
    with rt.uow() as session:
        return len(session.scalars(select(SignInSession).where(SignInSession.user_id == user_id,
                                                               SignInSession.revoked_at.is_(None))).all())


def test_a_provider_user_with_a_local_staff_username_is_a_separate_user_and_the_account_is_untouched(client, rt,
                                                                                                      idp):
    """A username never links: whoever holds `Grid-Worker-001001` at the provider (its owner, an
    attacker there, someone whose name romanises alike) is not that local account."""
    worker = bearer(staff.sign_in(client, "grid-worker-001001").json()["access_token"])
    before = local_user(rt, "u-grid-worker-001001")
    announced = len(events(rt, "identity.user.changed"))
    idp.person = {"sub": "cd-0417", "preferred_username": "Grid-Worker-001001", "name": "张伟",
                  "role": "街道调度员", "unit": "510107001001002"}
    response = sign_in(client)
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] != "u-grid-worker-001001" and response.json()["role"] == "street_dispatcher"
    newcomer = user_by_subject(rt, "cd-0417")
    assert newcomer.id == response.json()["user_id"] and newcomer.kind == "staff"
    assert newcomer.username is None  # the provider's username is taken here: the new user goes without
    assert directory.units_of(newcomer) == ["510107001001002"] and newcomer.display_name == "张伟"
    # The local account: same role, units and name, no link, still active, its sign-in alive.
    after = local_user(rt, "u-grid-worker-001001")
    assert (after.role, after.unit_codes, after.display_name, after.active) == (
        before.role, before.unit_codes, before.display_name, True)
    assert after.role == "grid_worker" and (after.oidc_issuer, after.oidc_subject) == (None, None)
    assert live_sessions(rt, "u-grid-worker-001001") == 1
    assert client.get("/identity/v1/me", headers=worker).json()["id"] == "u-grid-worker-001001"
    assert staff.sign_in(client, "grid-worker-001001").status_code == 200  # and signs in by password as before
    assert [e["data"]["user_id"] for e in events(rt, "identity.user.changed")[announced:]] == [newcomer.id]
    assert events(rt, "identity.session.revoked") == []
    # Another subject with the same username is yet another user, and the account still nobody's.
    idp.person = {**idp.person, "sub": "cd-9999"}
    other = sign_in(client)
    assert other.status_code == 200 and other.json()["user_id"] not in ("u-grid-worker-001001", newcomer.id)
    assert user_by_subject(rt, "cd-9999").username is None
    assert local_user(rt, "u-grid-worker-001001").oidc_subject is None
    # The newcomer signs in again as themself.
    idp.person = {**idp.person, "sub": "cd-0417"}
    assert sign_in(client).json()["user_id"] == newcomer.id


def test_an_admins_username_at_the_provider_gains_nothing(client, rt, idp):
    admin_before = local_user(rt, "u-admin-1")
    idp.person = {"sub": "attacker-0666", "preferred_username": "admin-1", "name": "管理员",
                  "role": "网格员", "unit": "510107001001001"}
    response = sign_in(client)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["user_id"] != "u-admin-1" and pair["role"] == "grid_worker"
    me = client.get("/identity/v1/me", headers=bearer(pair["access_token"])).json()
    assert me["role"] == "grid_worker" and me["username"] is None
    # Nothing an admin may do: the directory refuses the token.
    denied = client.get("/identity/v1/users", headers=bearer(pair["access_token"]))
    assert denied.status_code == 403 and error(denied) == "auth.forbidden"
    admin_after = local_user(rt, "u-admin-1")
    assert (admin_after.role, admin_after.active, admin_after.oidc_subject) == ("admin", True, None)
    assert admin_after.updated_at == admin_before.updated_at
    assert staff.sign_in(client, "admin-1").json()["user_id"] == "u-admin-1"


def test_es256_tokens_and_client_secret_post_are_accepted(tmp_path, monkeypatch, runtime):
    with OidcProvider(alg="ES256", token_auth="client_secret_post") as idp:
        configure(tmp_path, monkeypatch, idp)
        client = TestClient(SPEC.app(runtime()))
        response = sign_in(client)
        assert response.status_code == 200, response.text
        assert idp.token_requests[0]["method"] == "client_secret_post"


def test_a_key_rotated_at_the_provider_is_fetched(client, rt, idp):
    rt.cache["identity.oidc"] = Providers(jwks_min_refresh=0)
    assert sign_in(client).status_code == 200
    idp.rotate()
    assert sign_in(client).status_code == 200
    assert idp.jwks_fetches == 2


# ------------------------------------------------------------------------------------ the state


def test_an_unknown_state_is_refused(client, rt):
    sent_back = at_provider(client)
    response = finish(client, {**sent_back, "state": "x" * 43})
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"
    assert attempts(rt) == [("signin.oidc_failed", None)]


def test_an_attackers_code_and_state_slipped_to_another_browser_sign_nobody_in(client, rt):
    """Login CSRF: the attacker begins a sign-in in his own browser and hands his code and state to a
    victim's; only the browser that began it holds the binding cookie."""
    sent_back = at_provider(client)  # the attacker's browser
    victim = TestClient(client.app)  # another browser: no cookie of that sign-in
    response = victim.post("/identity/v1/oidc/city/token", json=sent_back)
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"
    victim.cookies.set("cg_oidc_binding", "x" * 64)  # a made-up binding
    assert victim.post("/identity/v1/oidc/city/token", json=sent_back).status_code == 401
    assert finish(client, sent_back).status_code == 200  # the one who began still can
    cookie = authorize(client).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/identity/v1/oidc" in cookie


def test_a_replayed_state_is_refused(client, rt):
    sent_back = at_provider(client)
    assert finish(client, sent_back).status_code == 200
    again = finish(client, sent_back)
    assert again.status_code == 401 and error(again) == "signin.oidc_failed"
    assert [result for result, _ in attempts(rt)] == ["ok", "signin.oidc_failed"]


def test_a_state_used_by_a_failed_attempt_cannot_be_used_again(client, rt, idp):
    idp.id_token_claims = {"aud": "someone-else"}
    sent_back = at_provider(client)
    assert finish(client, sent_back).status_code == 401
    idp.id_token_claims = {}
    assert finish(client, sent_back).status_code == 401
    with rt.uow() as session:
        assert session.get(OidcState, sent_back["state"]).used_at is not None


def test_an_expired_state_is_refused(client, rt):
    sent_back = at_provider(client)
    with rt.uow() as session:
        session.execute(update(OidcState).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = finish(client, sent_back)
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"


def test_a_state_of_another_provider_is_refused(tmp_path, monkeypatch, idp, runtime):
    configure(tmp_path, monkeypatch, idp)
    raw = json.loads((tmp_path / "identity-data" / "identity.json").read_text(encoding="utf-8"))
    raw["oidc"]["providers"].append({**raw["oidc"]["providers"][0], "name": "county"})
    (tmp_path / "identity-data" / "identity.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    config.get.cache_clear()
    client = TestClient(SPEC.app(runtime()))
    response = finish(client, at_provider(client), provider="county")
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"


# ------------------------------------------------------------------------------------ the ID token


def _other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda idp: setattr(idp, "sign_with", ("key-1", _other_key())), id="another key, same kid"),
    pytest.param(lambda idp: setattr(idp, "sign_with", ("key-x", _other_key())), id="another key, unknown kid"),
    pytest.param(lambda idp: idp.id_token_claims.update(aud="another-client"), id="wrong audience"),
    pytest.param(lambda idp: idp.id_token_claims.update(iss="https://evil.example"), id="wrong issuer"),
    pytest.param(lambda idp: idp.id_token_claims.update(nonce="not-the-nonce-we-sent"), id="wrong nonce"),
    pytest.param(lambda idp: idp.id_token_claims.update(nonce=None), id="no nonce"),
    pytest.param(lambda idp: idp.id_token_claims.update(exp=1_700_000_000), id="expired"),
    pytest.param(lambda idp: idp.id_token_claims.update(iat=1_700_000_000), id="issued before the sign-in began"),
    pytest.param(lambda idp: idp.id_token_claims.update(aud=["grid-portal", "another-client"]),
                 id="several audiences, no azp"),
    pytest.param(lambda idp: idp.person.update(unit="../../etc"), id="a unit that is no unit code"),
])
def test_an_id_token_that_does_not_verify_is_refused(client, rt, idp, tamper):
    tamper(idp)
    response = sign_in(client)
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"
    assert user_by_subject(rt, "cd-0001") is None
    assert attempts(rt) == [("signin.oidc_failed", None)]


def test_a_forged_key_id_does_not_make_us_hammer_the_provider(client, idp):
    idp.sign_with = ("key-forged", _other_key())
    for _ in range(3):
        assert sign_in(client).status_code == 401
    assert idp.jwks_fetches == 1  # fetched once; an unknown kid refetches at most every 10 seconds


@pytest.mark.parametrize("forge", ["HS256", "none"])
def test_an_id_token_signed_with_hs256_or_none_is_refused(client, idp, forge):
    idp.forge = forge
    response = sign_in(client)
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"


def test_a_code_the_provider_refuses_is_a_failed_sign_in(client):
    sent_back = at_provider(client)
    response = finish(client, {**sent_back, "code": "not-a-code-it-gave"})
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"


def test_a_wrong_client_secret_is_a_failed_sign_in(client, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    response = sign_in(client)
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"


# ------------------------------------------------------------------------------------ who may


def test_a_role_the_map_does_not_list_signs_nobody_in(client, rt, idp):
    idp.person["role"] = "保洁员"
    response = sign_in(client)
    assert response.status_code == 403 and error(response) == "signin.oidc_no_role"
    assert user_by_subject(rt, "cd-0001") is None
    ((result, user_id),) = attempts(rt)
    assert result == "signin.oidc_no_role" and user_id is None
    with rt.uow() as session:
        assert session.scalar(select(SignInAttempt.identifier_index)) is not None  # the subject, as a keyed hash


def test_a_disabled_user_is_refused(client, rt, idp):
    user_id = sign_in(client).json()["user_id"]
    with rt.unit_of_work() as uow:
        directory.set_active(uow.session, uow.emit, uow.session.get(User, user_id), False, utcnow())
    idp.person["role"] = "管理员"  # and the provider's claims do not revive or change it
    response = sign_in(client)
    assert response.status_code == 401 and error(response) == "signin.oidc_failed"
    user = user_by_subject(rt, "cd-0001")
    assert not user.active and user.role == "grid_worker"
    assert attempts(rt)[-1] == ("signin.oidc_failed", user_id)


def test_a_disabled_staff_user_is_not_linked_by_username(client, rt, idp):
    with rt.unit_of_work() as uow:
        directory.set_active(uow.session, uow.emit, uow.session.get(User, "u-grid-worker-001002"), False, utcnow())
    idp.person = {"sub": "cd-0500", "preferred_username": "grid-worker-001002", "role": "网格员"}
    response = sign_in(client)
    # A username links nobody (see above): this is a new user, without the taken username.
    assert response.status_code == 200 and response.json()["user_id"] != "u-grid-worker-001002"
    assert user_by_subject(rt, "cd-0500").username is None
    with rt.uow() as session:
        disabled = session.get(User, "u-grid-worker-001002")
        assert disabled.oidc_subject is None and not disabled.active


def test_a_linked_user_the_provider_no_longer_gives_a_role_is_disabled(client, rt, idp):
    """De-provisioned at the provider: disabled here before the refusal, so the sign-ins they still
    hold end (their refresh tokens stop working) and every service is told."""
    first = sign_in(client).json()
    user_id = first["user_id"]
    idp.person["role"] = "保洁员"  # no role of ours any more
    refused = sign_in(client)
    assert refused.status_code == 403 and error(refused) == "signin.oidc_no_role"
    user = user_by_subject(rt, "cd-0001")
    assert not user.active and user.role == "grid_worker"
    assert attempts(rt)[-1] == ("signin.oidc_no_role", user_id)
    # The earlier sign-in is over: its refresh token is refused, its access token too.
    again = client.post("/identity/v1/tokens/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and error(again) == "token.refresh_invalid"
    assert client.get("/identity/v1/me", headers=bearer(first["access_token"])).status_code == 401
    assert live_sessions(rt, user_id) == 0
    assert events(rt, "identity.user.changed")[-1]["data"] | {"at": None} == {
        "user_id": user_id, "kind": "staff", "role": "grid_worker", "unit_codes": ["510107001001001"],
        "active": False, "at": None}
    assert [e["data"]["reason"] for e in events(rt, "identity.session.revoked")] == ["user_disabled"]
    # A role given back at the provider does not revive the account: an admin enables it.
    idp.person["role"] = "网格员"
    assert error(sign_in(client)) == "signin.oidc_failed"
    assert not user_by_subject(rt, "cd-0001").active


# ------------------------------------------------------------------------------------ bad requests


def test_a_redirect_uri_not_allowed_is_refused(client, rt):
    response = authorize(client, redirect_uri="https://evil.example/callback")
    assert response.status_code == 422 and error(response) == "signin.bad_redirect"
    assert error(authorize(client, redirect_uri=FRONT_END + "/../x")) == "signin.bad_redirect"
    with rt.uow() as session:
        assert session.scalar(select(OidcState.state)) is None


def test_an_unknown_provider_is_404(client, rt):
    assert error(authorize(client, provider="nowhere")) == "signin.oidc_unknown_provider"
    response = finish(client, {"code": "c", "state": "s"}, provider="nowhere")
    assert response.status_code == 404 and error(response) == "signin.oidc_unknown_provider"
    assert attempts(rt) == [("signin.oidc_unknown_provider", None)]


def test_an_unreachable_provider_is_503(tmp_path, monkeypatch, runtime):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    configure(tmp_path, monkeypatch, None, issuer=f"http://127.0.0.1:{port}")
    client = TestClient(SPEC.app(runtime()))
    response = authorize(client)
    assert response.status_code == 503 and error(response) == "signin.oidc_unavailable"


def test_a_provider_that_goes_down_during_the_sign_in_is_503(client, rt, idp):
    sent_back = at_provider(client)
    idp.stop()
    response = finish(client, sent_back)
    assert response.status_code == 503 and error(response) == "signin.oidc_unavailable"
    assert attempts(rt) == [("signin.oidc_unavailable", None)]


def test_a_discovery_document_for_another_issuer_is_not_used(tmp_path, monkeypatch, idp, runtime):
    configure(tmp_path, monkeypatch, idp, issuer=idp.issuer.replace("127.0.0.1", "localhost"))
    client = TestClient(SPEC.app(runtime()))
    response = authorize(client)
    assert response.status_code == 503 and error(response) == "signin.oidc_unavailable"


def test_a_missing_client_secret_is_503_not_500(client, monkeypatch):
    sent_back = at_provider(client)
    monkeypatch.delenv(SECRET_ENV)
    response = finish(client, sent_back)
    assert response.status_code == 503 and error(response) == "signin.oidc_unavailable"


def test_a_provider_configured_over_plain_http_elsewhere_stops_start_up():
    with pytest.raises(ValueError, match="https"):
        config.OidcProvider(name="city", issuer="http://id.city.example", client_id="x", client_secret_env="X",
                            role_map={"a": "admin"})
    with pytest.raises(ValueError, match="resident"):
        config.OidcProvider(name="city", issuer="https://id.city.example", client_id="x", client_secret_env="X",
                            role_map={"a": "resident"})
