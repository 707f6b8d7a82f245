"""How often one address, one username or one phone may try: every limit answers 429 `rate.limited`
with Retry-After, is named in services/identity/limits.py (a deployment changes it by that name,
CG_RATE_LIMITS), is listed in the OpenAPI document, and in services mode is one count in Redis for
every process."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.identity import config, limits
from services.identity.models import SignInAttempt
from services.identity.service import SPEC
from shared.config import get_settings
from shared.migrate import upgrade
from shared.ratelimit import Limiter

from .conftest import events

V1 = "/identity/v1"
ELSEWHERE = ("10.20.30.40", 50000)  # another client address


@pytest.fixture
def limited(tmp_path):
    """Identity with some limits lowered, as a deployment lowers them (CG_RATE_LIMITS)."""
    made = []

    def build(**lowered: str):
        settings = get_settings(mode="embedded", var_dir=tmp_path, rate_limits=lowered)
        upgrade("identity", settings.database_url("identity"))
        rt = SPEC.runtime(settings)
        SPEC.seed(rt)
        made.append(rt)
        app = SPEC.app(rt)
        return rt, app, TestClient(app)

    yield build
    for rt in made:
        rt.dispose()


def refused(response) -> bool:
    """429 for being too frequent (not a lock, not the code allowance), with the seconds to wait."""
    return (response.status_code == 429 and response.json()["error"]["code"] == "rate.limited"
            and 1 <= int(response.headers["retry-after"]) <= 60)


def password(client, username: str):
    return client.post(f"{V1}/tokens/password", json={"username": username, "password": "Wrong-Password-1"})


def test_every_default_is_in_one_place_and_a_limit_a_person_never_reaches():
    assert set(limits.DEFAULTS) == {
        "identity.password.address", "identity.password.username", "identity.sms_sign_in.address",
        "identity.sms_sign_in.phone", "identity.sms_code.address", "identity.wechat.address",
        "identity.oidc_authorize.address", "identity.oidc_token.address", "identity.refresh.address"}
    for name, default in limits.DEFAULTS.items():
        count, per = default.split("/")
        assert per == "minute" and int(count) >= 10, name
    # Above what the rules beside them let through: a lock after 5 failures, 5 tries of a code,
    # and the codes sent to one address in an hour.
    assert int(limits.DEFAULTS["identity.password.username"].split("/")[0]) > config.get().password.max_failures
    assert int(limits.DEFAULTS["identity.sms_sign_in.phone"].split("/")[0]) > config.get().sms_code.max_attempts
    assert int(limits.DEFAULTS["identity.sms_code.address"].split("/")[0]) > config.get().sms_code.per_ip_per_hour


def test_the_openapi_document_lists_429_wherever_a_limit_applies(client):
    paths = client.get("/identity/openapi.json").json()["paths"]
    for method, path in (("post", "/tokens/password"), ("post", "/tokens/sms"), ("post", "/sms-codes"),
                         ("post", "/tokens/wechat"), ("get", "/oidc/{provider}/authorize"),
                         ("post", "/oidc/{provider}/token"), ("post", "/tokens/refresh")):
        assert "429" in paths[f"{V1}{path}"][method]["responses"], path


def test_password_sign_in_per_address(limited):
    _, app, client = limited(**{"identity.password.address": "3/minute"})
    for n in range(3):
        assert password(client, f"someone-{n}").status_code == 401
    r = password(client, "someone-else")
    assert refused(r), r.text
    # Another address is not held back by this one.
    assert password(TestClient(app, client=ELSEWHERE), "someone-else").status_code == 401


def test_password_sign_in_per_username_counts_however_the_name_is_typed(limited):
    rt, app, client = limited(**{"identity.password.username": "3/minute"})
    for typed in ("grid-worker-001001", " Grid-Worker-001001", "GRID-WORKER-001001 "):
        assert password(client, typed).status_code == 401
    # From another address too: the username is what is counted.
    r = password(TestClient(app, client=ELSEWHERE), "grid-worker-001001")
    assert refused(r), r.text
    assert password(client, "grid-worker-001002").status_code == 401
    with rt.uow() as session:  # the refused attempt was not even tried
        assert session.scalar(select(func.count()).select_from(SignInAttempt)) == 4


def test_the_default_per_username_stands_beside_the_lockout(client):
    """Five failures lock the name (signin.locked, whatever is tried); the limit bounds the rest."""
    per_minute = int(limits.DEFAULTS["identity.password.username"].split("/")[0])
    answers = [password(client, "no-such-person") for _ in range(per_minute + 1)]
    codes = [r.json()["error"]["code"] for r in answers]
    lock = config.get().password.max_failures
    assert codes == ["signin.failed"] * lock + ["signin.locked"] * (per_minute - lock) + ["rate.limited"]
    assert refused(answers[-1])


def sms_sign_in(client, phone: str):
    return client.post(f"{V1}/tokens/sms", json={"phone": phone, "code": "000000"})


def test_sms_sign_in_per_address(limited):
    _, app, client = limited(**{"identity.sms_sign_in.address": "2/minute"})
    assert sms_sign_in(client, "13912340001").status_code == 401
    assert sms_sign_in(client, "13912340002").status_code == 401
    assert refused(sms_sign_in(client, "13912340003"))
    assert sms_sign_in(TestClient(app, client=ELSEWHERE), "13912340003").status_code == 401


def test_sms_sign_in_per_phone_however_the_number_is_written(limited):
    _, app, client = limited(**{"identity.sms_sign_in.phone": "2/minute"})
    assert sms_sign_in(client, "13912340001").status_code == 401
    assert sms_sign_in(client, "+86 139-1234-0001").status_code == 401
    assert refused(sms_sign_in(TestClient(app, client=ELSEWHERE), "+8613912340001"))
    assert sms_sign_in(client, "13912340002").status_code == 401
    # A number that is none is refused as such, whatever the limits.
    assert sms_sign_in(client, "12345").json()["error"]["code"] == "signin.bad_phone"


def test_asking_for_codes_per_address_counts_the_refused_requests_too(limited):
    rt, app, client = limited(**{"identity.sms_code.address": "3/minute"})
    assert client.post(f"{V1}/sms-codes", json={"phone": "13912340001"}).status_code == 202
    assert client.post(f"{V1}/sms-codes", json={"phone": "12345"}).status_code == 422  # no code sent, counted
    assert client.post(f"{V1}/sms-codes", json={"phone": "13912340002"}).status_code == 202
    r = client.post(f"{V1}/sms-codes", json={"phone": "13912340003"})
    assert refused(r), r.text
    assert len(events(rt, "identity.code.requested")) == 2  # nothing sent for the refusal
    assert TestClient(app, client=ELSEWHERE).post(f"{V1}/sms-codes", json={"phone": "13912340003"}).status_code == 202


def test_wechat_sign_in_per_address(limited):
    _, _, client = limited(**{"identity.wechat.address": "2/minute"})
    for _ in range(2):  # WeChat is off here: refused as such until the limit
        assert client.post(f"{V1}/tokens/wechat", json={"code": "wx"}).status_code == 503
    assert refused(client.post(f"{V1}/tokens/wechat", json={"code": "wx"}))


def test_oidc_authorize_and_token_per_address(limited):
    _, _, client = limited(**{"identity.oidc_authorize.address": "2/minute", "identity.oidc_token.address": "1/minute"})

    def authorize():
        return client.get(f"{V1}/oidc/city/authorize", params={"redirect_uri": "https://x.example.cn/cb"},
                          follow_redirects=False)

    assert [authorize().status_code for _ in range(2)] == [404, 404]  # no provider configured here
    assert refused(authorize())
    token = f"{V1}/oidc/city/token"
    assert client.post(token, json={"code": "c", "state": "s"}).status_code == 404
    assert refused(client.post(token, json={"code": "c", "state": "s"}))


def test_refresh_per_address(limited):
    _, app, client = limited(**{"identity.refresh.address": "2/minute"})
    body = {"refresh_token": "rt_not-a-token-of-anyone"}
    assert [client.post(f"{V1}/tokens/refresh", json=body).status_code for _ in range(2)] == [401, 401]
    assert refused(client.post(f"{V1}/tokens/refresh", json=body))
    assert TestClient(app, client=ELSEWHERE).post(f"{V1}/tokens/refresh", json=body).status_code == 401


@pytest.mark.redis
def test_in_services_mode_every_process_shares_the_count(redis_url, limited):
    """Two API processes (two applications, each its own limiter) count one username as one."""
    _, first, _ = limited()
    second = SPEC.app(first.state.runtime)
    counted = get_settings(mode="services", redis_url=redis_url,
                           rate_limits={"identity.password.username": "3/minute",
                                        "identity.password.address": "1000/minute"})
    for app in (first, second):
        app.state.limiter = Limiter(counted)
    name = f"nobody-{uuid.uuid4().hex[:8]}"  # a count of its own in Redis, whatever ran before
    one, other = TestClient(first), TestClient(second)
    assert [password(c, name).status_code for c in (one, other, one)] == [401, 401, 401]
    assert refused(password(other, name))
