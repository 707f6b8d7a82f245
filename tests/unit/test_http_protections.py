"""What every service's HTTP layer does: bodies bounded while they stream, security headers,
rate limits (in memory embedded, in Redis across processes), error statuses in the OpenAPI
document, and database errors that never carry the values they failed on."""

import pytest
from fastapi import APIRouter, Body, Response
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from shared.auth import CurrentUser, issue_token
from shared.config import get_settings
from shared.db import make_engine
from shared.errors import ApiError
from shared.messaging.tables import messaging_tables
from shared.ratelimit import Limiter, limit
from shared.runtime import build_runtime
from shared.web import create_app

router = APIRouter(prefix="/v1")


@router.post("/echo")
def echo(body: dict = Body(...)) -> dict:
    return {"keys": len(body)}


@router.get("/cached")
def cached(response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=60"
    return {}


@router.post("/costly", dependencies=[limit("demo.costly", "3/minute", per="address")])
def costly() -> dict:
    return {"ok": True}


@router.post("/mine", dependencies=[limit("demo.mine", "2/minute", per="user")])
def mine(user: CurrentUser) -> dict:
    return {"user": user.id}


@router.post("/quota", dependencies=[limit("demo.quota", "2/minute", per="both", counts="done")])
def quota(user: CurrentUser, body: dict = Body(...)) -> dict:
    if body.get("refuse"):
        raise ApiError(422, "validation.invalid", "refuse")
    return {"user": user.id}


def app_for(tmp_path, **settings):
    outbox, inbox = messaging_tables(MetaData())
    s = get_settings(var_dir=tmp_path, max_body_bytes=1000, body_limits={"/demo/v1/echo-big": 5000}, **settings)
    rt = build_runtime("demo", s, outbox, inbox, f"sqlite:///{tmp_path / 'd.sqlite'}")
    return TestClient(create_app(rt, title="t", description="t", router=router)), s


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(tmp_path):
    client, _ = app_for(tmp_path)
    assert client.post("/demo/v1/echo", json={"a": "x" * 100}).status_code == 200
    declared = client.post("/demo/v1/echo", json={"a": "x" * 5000})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "request.too_large"

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"a": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    streamed = client.post("/demo/v1/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "request.too_large"


@pytest.mark.parametrize("raw", [b"\xff", b'{"a": "\xc3"}', b"\xfe\xff\x00{"])
def test_a_body_that_is_not_utf8_is_bad_json_422_never_an_undocumented_400(tmp_path, raw):
    client, _ = app_for(tmp_path)
    r = client.post("/demo/v1/echo", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation.bad_json"


def test_answers_carry_security_headers_and_are_not_cached_unless_the_endpoint_says(tmp_path):
    client, _ = app_for(tmp_path)
    r = client.post("/demo/v1/echo", json={})
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert client.get("/demo/v1/cached").headers["cache-control"] == "public, max-age=60"


def test_a_rate_limit_answers_429_with_retry_after_per_address_and_per_user(tmp_path):
    client, settings = app_for(tmp_path)
    assert [client.post("/demo/v1/costly").status_code for _ in range(4)] == [200, 200, 200, 429]
    r = client.post("/demo/v1/costly")
    assert r.json()["error"]["code"] == "rate.limited" and 1 <= int(r.headers["retry-after"]) <= 60
    other = TestClient(client.app, client=("10.1.2.3", 5000))
    assert other.post("/demo/v1/costly").status_code == 200  # another address has its own count
    a = {"Authorization": f"Bearer {issue_token(settings, 'u-a', 'resident')}"}
    b = {"Authorization": f"Bearer {issue_token(settings, 'u-b', 'resident')}"}
    assert [client.post("/demo/v1/mine", headers=a).status_code for _ in range(3)] == [200, 200, 429]
    assert client.post("/demo/v1/mine", headers=b).status_code == 200


def test_a_quota_of_work_counts_only_what_was_done_not_what_was_refused(tmp_path):
    client, settings = app_for(tmp_path)
    a = {"Authorization": f"Bearer {issue_token(settings, 'u-a', 'resident')}"}
    for bad in [{"refuse": True}] * 5 + ["not an object"] * 5:  # refused by the endpoint, or by validation
        assert client.post("/demo/v1/quota", headers=a, json=bad).status_code == 422
    assert [client.post("/demo/v1/quota", headers=a, json={}).status_code for _ in range(3)] == [200, 200, 429]
    r = client.post("/demo/v1/quota", headers=a, json={})
    assert r.json()["error"]["code"] == "rate.limited" and 1 <= int(r.headers["retry-after"]) <= 60
    # and the address's count, which the user's two took up, refuses another user from there too
    b = {"Authorization": f"Bearer {issue_token(settings, 'u-b', 'resident')}"}
    assert client.post("/demo/v1/quota", headers=b, json={}).status_code == 429


def test_a_401_for_a_bearer_token_says_how_to_authenticate(tmp_path):
    client, _ = app_for(tmp_path)
    missing = client.post("/demo/v1/mine")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    invalid = client.post("/demo/v1/mine", headers={"Authorization": "Bearer nonsense"})
    assert invalid.status_code == 401 and invalid.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    documented = client.get("/demo/openapi.json").json()["paths"]["/demo/v1/mine"]["post"]["responses"]["401"]
    assert "WWW-Authenticate" in documented["headers"]


def test_a_deployment_changes_a_limit_without_a_release(tmp_path):
    client, _ = app_for(tmp_path, rate_limits={"demo.costly": "1/minute"})
    assert [client.post("/demo/v1/costly").status_code for _ in range(2)] == [200, 429]


@pytest.mark.redis
def test_in_services_mode_every_process_shares_the_count_in_redis(redis_url):
    import uuid

    from shared.errors import ApiError

    name = f"test.shared.{uuid.uuid4()}"
    settings = get_settings(mode="services", redis_url=redis_url)
    first, second = Limiter(settings), Limiter(settings)  # two processes' limiters
    first.hit(name, "2/minute", "a:1.2.3.4")
    second.hit(name, "2/minute", "a:1.2.3.4")
    with pytest.raises(ApiError) as refused:
        first.hit(name, "2/minute", "a:1.2.3.4")
    assert refused.value.status == 429


def test_without_redis_the_request_is_let_through(tmp_path):
    limiter = Limiter(get_settings(mode="services", redis_url="redis://127.0.0.1:1/0"))
    for _ in range(5):
        limiter.hit("test.down", "1/minute", "a:x")  # logged, not refused


def test_the_openapi_document_lists_the_errors_the_shared_layer_answers(tmp_path):
    client, _ = app_for(tmp_path)
    paths = client.get("/demo/openapi.json").json()["paths"]
    assert {"413", "422"} <= set(paths["/demo/v1/echo"]["post"]["responses"])
    assert "429" in paths["/demo/v1/costly"]["post"]["responses"]
    assert {"401", "429", "503"} <= set(paths["/demo/v1/mine"]["post"]["responses"])
    error = paths["/demo/v1/echo"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}


def test_every_operation_but_the_probes_documents_the_busy_503_with_retry_after(tmp_path):
    """The admission bound refuses any request (shared/admission.py), signed in or not: its 503 belongs in
    every operation's answers, with the Retry-After a client must honour."""
    client, _ = app_for(tmp_path)
    paths = client.get("/demo/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, op in operations.items():
            if path.endswith(("/healthz", "/readyz", "/metrics")):
                continue
            busy = op["responses"].get("503")
            assert busy and "Retry-After" in busy["headers"], (method, path)
    assert "Retry-After" in paths["/demo/v1/costly"]["post"]["responses"]["429"]["headers"]


def test_a_failed_statement_does_not_quote_the_values_it_failed_on(tmp_path):
    metadata = MetaData()
    people = Table("people", metadata, Column("id", Integer, primary_key=True), Column("phone", String(20),
                                                                                      unique=True))
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(people).values(id=1, phone="13912345678"))
    with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
        conn.execute(insert(people).values(id=2, phone="13912345678"))
    assert "13912345678" not in str(failed.value)
    engine.dispose()
