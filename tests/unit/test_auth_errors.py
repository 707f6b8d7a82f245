"""Tokens, the error format and the shared FastAPI application (request ids, health)."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import MetaData

import services.intake.errors  # noqa: F401  (registers case.not_found, the code raised below)
from shared.auth import (
    ROLES,
    STAFF_ROLES,
    CurrentUser,
    StaffUser,
    User,
    decode_token,
    demo_token,
    demo_users,
    issue_token,
)
from shared.config import get_settings
from shared.errors import MESSAGES, ApiError
from shared.messaging.tables import messaging_tables
from shared.runtime import build_runtime
from shared.web import correlation_id, create_app

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return get_settings(var_dir=tmp_path_factory.mktemp("var"), mode="embedded")


def _claims(settings, **changes) -> dict:
    now = datetime.now(UTC)
    claims = {"sub": "u-1", "role": "resident", "unit": None, "iss": settings.jwt_issuer, "iat": now,
              "exp": now + timedelta(hours=1)}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


def _raw_token(settings, secret: str | None = None, **changes) -> str:
    return jwt.encode(_claims(settings, **changes), secret or settings.jwt_secret, algorithm="HS256")


# --------------------------------------------------------------------------- tokens


def test_issue_and_decode_round_trip(settings):
    token = issue_token(settings, "u-grid-worker-001001", "grid_worker", "510107001001001")
    user = decode_token(settings, token)
    assert user == User(id="u-grid-worker-001001", role="grid_worker", unit_code="510107001001001")
    assert user.is_staff


def test_round_trip_without_a_unit(settings):
    user = decode_token(settings, issue_token(settings, "u-resident-1", "resident"))
    assert user == User(id="u-resident-1", role="resident", unit_code=None)
    assert not user.is_staff


def test_issued_token_claims(settings):
    token = issue_token(settings, "u-1", "admin", "510107000000000")
    claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], issuer=settings.jwt_issuer)
    assert claims["sub"] == "u-1" and claims["role"] == "admin" and claims["unit"] == "510107000000000"
    assert claims["exp"] - claims["iat"] == settings.token_ttl_seconds


def test_issue_token_refuses_an_unknown_role(settings):
    with pytest.raises(ValueError):
        issue_token(settings, "u-1", "emperor")


def test_staff_roles_are_every_role_but_resident():
    assert "resident" in ROLES
    assert set(STAFF_ROLES) == set(ROLES) - {"resident"}


def _invalid(settings, token: str) -> ApiError:
    with pytest.raises(ApiError) as info:
        decode_token(settings, token)
    return info.value


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda s: _raw_token(s, exp=datetime.now(UTC) - timedelta(seconds=5)), id="expired"),
        pytest.param(lambda s: _raw_token(s, secret="another-secret-that-is-long-enough-32b"), id="wrong-secret"),
        pytest.param(lambda s: _raw_token(s, iss="someone-else"), id="wrong-issuer"),
        pytest.param(lambda s: _raw_token(s, iss=...), id="no-issuer"),
        pytest.param(lambda s: _raw_token(s, role="emperor"), id="unknown-role"),
        pytest.param(lambda s: _raw_token(s, role=...), id="no-role"),
        pytest.param(lambda s: _raw_token(s, sub=...), id="no-subject"),
        pytest.param(lambda s: _raw_token(s, exp=...), id="no-expiry"),
        pytest.param(lambda s: "not.a.jwt", id="garbage"),
        pytest.param(lambda s: "", id="empty"),
        pytest.param(
            lambda s: jwt.encode(_claims(s), s.jwt_secret * 2, algorithm="HS512"), id="other-alg"
        ),
        pytest.param(lambda s: jwt.encode(_claims(s), None, algorithm="none"), id="alg-none"),
    ],
)
def test_invalid_tokens_are_rejected_with_401(settings, make):
    err = _invalid(settings, make(settings))
    assert err.status == 401
    assert err.code == "auth.invalid_token"


def test_a_token_of_another_deployment_is_rejected(settings, tmp_path):
    other = get_settings(var_dir=tmp_path, jwt_secret="a-completely-different-production-secret!")
    token = issue_token(other, "u-1", "admin")
    assert decode_token(other, token).role == "admin"
    assert _invalid(settings, token).code == "auth.invalid_token"


def test_demo_token_for_every_role(settings):
    users = demo_users(settings)
    for role in ROLES:
        user = decode_token(settings, demo_token(settings, role))
        assert user.role == role
        expected = next(u for u in users if u["role"] == role)
        assert user.id == expected["id"]
        assert user.unit_code == expected.get("unit_code")


def test_demo_token_for_a_role_nobody_has(settings):
    with pytest.raises(SystemExit):
        demo_token(settings, "emperor")


# --------------------------------------------------------------------------- the application


class Thing(BaseModel):
    name: str = Field(min_length=1, max_length=5)
    count: int = Field(ge=1, le=10)
    note: str | None = None


class Search(BaseModel):
    query: str = Field(max_length=3)
    path: str | None = Field(default=None, max_length=3)


def things_router(rt) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.post("/things")
    def create_thing(body: Thing, user: CurrentUser,
                     correlation: Annotated[str, Depends(correlation_id)]) -> dict:
        return {"name": body.name, "count": body.count, "user": user.id, "role": user.role,
                "correlation_id": correlation}

    @api.post("/search")
    def search(body: Search) -> dict:
        return {"query": body.query}

    @api.get("/staff-only")
    def staff_only(user: StaffUser) -> dict:
        return {"user": user.id}

    @api.get("/echo-id")
    def echo_id(request: Request) -> dict:
        return {"correlation_id": correlation_id(request)}

    @api.get("/gone")
    def gone() -> dict:
        raise ApiError(404, "case.not_found", field="case_id", detail="c-404")

    return api


@pytest.fixture(scope="module")
def app_rt(tmp_path_factory, settings):
    metadata = MetaData()
    outbox, inbox = messaging_tables(metadata)
    path = tmp_path_factory.mktemp("db") / "demo.sqlite"
    rt = build_runtime("demo", settings, outbox, inbox, url=f"sqlite:///{path}")
    metadata.create_all(rt.engine)
    yield rt
    rt.dispose()


@pytest.fixture(scope="module")
def client(app_rt):
    # Stateless endpoints: one application for the module.
    app = create_app(app_rt, title="测试", description="test app", router=things_router(None))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def auth(settings) -> dict:
    return {"Authorization": f"Bearer {demo_token(settings, 'resident')}"}


def test_a_valid_request(client, auth):
    r = client.post("/demo/v1/things", json={"name": "abc", "count": 3}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "abc" and body["count"] == 3
    assert body["user"] == "u-resident-1" and body["role"] == "resident"


def test_missing_token_is_401_with_a_chinese_message(client):
    r = client.post("/demo/v1/things", json={"name": "abc", "count": 3})
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "auth.missing_token"
    assert err["message"] == MESSAGES["auth.missing_token"][0]
    assert CJK.search(err["message"])


def test_missing_token_in_english(client):
    r = client.post("/demo/v1/things", json={"name": "abc", "count": 3}, headers={"Accept-Language": "en-GB"})
    assert r.status_code == 401
    assert r.json()["error"]["message"] == MESSAGES["auth.missing_token"][1]


def test_an_invalid_token_is_401(client, settings):
    bad = _raw_token(settings, secret="another-secret-that-is-long-enough-32b")
    r = client.post("/demo/v1/things", json={"name": "abc", "count": 3}, headers={"Authorization": f"Bearer {bad}"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth.invalid_token"


def test_a_resident_is_forbidden_from_staff_endpoints(client, auth, settings):
    r = client.get("/demo/v1/staff-only", headers=auth)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "auth.forbidden"
    staff = {"Authorization": f"Bearer {demo_token(settings, 'operator')}"}
    r = client.get("/demo/v1/staff-only", headers=staff)
    assert r.status_code == 200 and r.json() == {"user": "u-operator-1"}


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"name": "toolongname", "count": 3}, "validation.too_long", "name"),
        ({"name": "", "count": 3}, "validation.too_short", "name"),
        ({"count": 3}, "validation.missing", "name"),
        ({"name": "abc"}, "validation.missing", "count"),
        ({"name": "abc", "count": 0}, "validation.out_of_range", "count"),
        ({"name": "abc", "count": 11}, "validation.out_of_range", "count"),
        ({"name": "abc", "count": "many"}, "validation.bad_type", "count"),
        ({"name": 5, "count": 3}, "validation.bad_type", "name"),
    ],
)
def test_a_bad_body_is_422_with_code_field_and_chinese_message(client, auth, payload, code, field):
    r = client.post("/demo/v1/things", json=payload, headers=auth)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == code
    assert err["field"] == field
    assert err["message"] == MESSAGES[code][0]
    assert CJK.search(err["message"])
    assert {"code": code, "message": MESSAGES[code][0], "field": field} in err["errors"]


def test_a_too_long_search_query_is_422(client):
    r = client.post("/demo/v1/search", json={"query": "abcdef"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation.too_long"


@pytest.mark.parametrize("name", ["query", "path"])
def test_a_body_field_named_like_a_location_keeps_its_name(client, name):
    r = client.post("/demo/v1/search", json={"query": "ok", name: "abcdef"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == name


def test_a_bad_body_in_english(client, auth):
    r = client.post("/demo/v1/things", json={"name": "toolongname", "count": 99},
                    headers={**auth, "Accept-Language": "en-US,en;q=0.9"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation.too_long" and err["field"] == "name"
    assert err["message"] == "Too long"
    assert not CJK.search(err["message"])
    # Every problem is listed, each in English.
    assert {(e["code"], e["field"]) for e in err["errors"]} == {
        ("validation.too_long", "name"), ("validation.out_of_range", "count")}
    assert all(not CJK.search(e["message"]) for e in err["errors"])


def test_a_chinese_first_accept_language_stays_chinese(client, auth):
    r = client.post("/demo/v1/things", json={"name": "abc"}, headers={**auth, "Accept-Language": "zh-CN,en;q=0.8"})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == MESSAGES["validation.missing"][0]


def test_a_body_that_is_not_json(client, auth):
    r = client.post("/demo/v1/things", content=b"{name: oops", headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation.bad_json"


def test_api_errors_carry_field_and_detail(client):
    r = client.get("/demo/v1/gone")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "case.not_found", "message": MESSAGES["case.not_found"][0],
                                  "field": "case_id", "detail": "c-404"}}


def test_unknown_path_and_method_use_the_error_format(client):
    r = client.get("/demo/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.delete("/demo/v1/things")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_a_request_id_sent_is_echoed_back(client, auth):
    rid = "req-" + uuid.uuid4().hex
    r = client.post("/demo/v1/things", json={"name": "abc", "count": 3}, headers={**auth, "X-Request-ID": rid})
    assert r.headers["x-request-id"] == rid
    assert r.json()["correlation_id"] == rid
    # Error responses carry it too.
    r = client.post("/demo/v1/things", json={}, headers={"X-Request-ID": rid})
    assert r.status_code == 401 and r.headers["x-request-id"] == rid


def test_a_request_id_is_generated_when_absent(client, auth):
    r1 = client.post("/demo/v1/things", json={"name": "abc", "count": 3}, headers=auth)
    r2 = client.post("/demo/v1/things", json={"name": "abc", "count": 3}, headers=auth)
    rid1, rid2 = r1.headers["x-request-id"], r2.headers["x-request-id"]
    assert uuid.UUID(rid1) and uuid.UUID(rid2)
    assert rid1 != rid2
    # The generated id is the one the request's events are correlated by.
    assert r1.json()["correlation_id"] == rid1
    assert len(r1.headers.get_list("x-request-id")) == 1


def test_a_long_request_id_is_the_same_in_the_response_and_the_correlation_id(client):
    rid = "x" * 100
    r = client.get("/demo/v1/echo-id", headers={"X-Request-ID": rid})
    assert r.status_code == 200
    assert r.json()["correlation_id"] == r.headers["x-request-id"]


def test_an_empty_request_id_is_replaced_everywhere(client):
    r = client.get("/demo/v1/echo-id", headers={"X-Request-ID": ""})
    assert r.status_code == 200
    echoed = r.headers["x-request-id"]
    assert echoed
    assert r.json()["correlation_id"] == echoed


def test_healthz(client):
    r = client.get("/demo/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "service": "demo"}
    assert r.headers["x-request-id"]


def test_readyz_with_the_database_reachable(client):
    r = client.get("/demo/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["service"] == "demo"
    assert body["checks"] == {"database": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path, settings):
    metadata = MetaData()
    outbox, inbox = messaging_tables(metadata)
    # A database file inside a directory that does not exist cannot be opened.
    rt = build_runtime("demo", settings, outbox, inbox, url=f"sqlite:///{tmp_path / 'missing' / 'x.sqlite'}")
    app = create_app(rt, title="t", description="d", router=things_router(None))
    with TestClient(app) as c:
        r = c.get("/demo/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not ready"
    assert r.json()["checks"]["database"].startswith("unreachable")
    rt.dispose()


def test_docs_live_under_the_service_prefix(client):
    assert client.get("/demo/openapi.json").status_code == 200
    assert client.get("/openapi.json").status_code == 404
