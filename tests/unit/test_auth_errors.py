"""The error format and the shared FastAPI application (request ids, health, who is asking)."""

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
from shared.auth import CurrentUser, StaffUser, demo_token
from shared.config import get_settings
from shared.errors import MESSAGES, ApiError
from shared.messaging.tables import messaging_tables
from shared.runtime import build_runtime
from shared.web import correlation_id, create_app

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return get_settings(var_dir=tmp_path_factory.mktemp("var"), mode="embedded")


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
    # Signed with the HS256 secret every earlier deployment shared: nobody can sign tokens that way now.
    now = datetime.now(UTC)
    bad = jwt.encode({"sub": "u-admin-1", "role": "admin", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
                      "iat": now, "exp": now + timedelta(minutes=5)}, "dev-only-secret-change-me-in-production",
                     algorithm="HS256")
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


def test_a_body_that_is_not_json_names_the_body_not_a_character_offset(client, auth):
    r = client.post("/demo/v1/things", content=b"{name: oops", headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation.bad_json" and r.json()["error"]["field"] == "body"
    assert [e["field"] for e in r.json()["error"]["errors"]] == ["body"]


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
    assert body["checks"] == {"database": "ok", "token_keys": "ok"}


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


def test_a_request_id_that_is_no_id_is_replaced_so_no_free_text_reaches_the_logs(client):
    for rid in ("13800000001 zhang san", "x" * 65, "a\tb", "req;drop"):
        r = client.get("/demo/v1/echo-id", headers={"X-Request-ID": rid})
        assert uuid.UUID(r.headers["x-request-id"]) and r.json()["correlation_id"] == r.headers["x-request-id"]
    assert client.get("/demo/v1/echo-id", headers={"X-Request-ID": "req-42"}).headers["x-request-id"] == "req-42"
