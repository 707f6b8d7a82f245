"""Bad input is refused with 422 naming the field, never a server error: ids, filters and states are
bounded in their schema, and a NUL byte (which PostgreSQL refuses in any text, so a query with one
fails) never reaches a query: checked on SQLite and on a real PostgreSQL."""

import pytest
from fastapi.testclient import TestClient

from services.identity.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings
from shared.migrate import upgrade

V1 = "/identity/v1"

# (method, url, params or body, the field refused)
BAD = [
    ("GET", f"{V1}/users/u-%00", {}, "user_id"),
    ("GET", f"{V1}/users/{'u' * 65}", {}, "user_id"),
    ("PATCH", f"{V1}/users/u-%00", {"json": {"active": False}}, "user_id"),
    ("PUT", f"{V1}/users/u-%00/password", {"json": {"password": "Correct-Horse-42-Battery"}}, "user_id"),
    ("DELETE", f"{V1}/api-keys/k%00", {}, "key_id"),
    ("GET", f"{V1}/users", {"params": {"role": "grid\x00worker"}}, "role"),
    ("GET", f"{V1}/sign-in-attempts", {"params": {"user_id": "u-\x00"}}, "user_id"),
    ("GET", f"{V1}/sign-in-attempts", {"params": {"method": "pass\x00word"}}, "method"),
    ("GET", f"{V1}/sign-in-attempts", {"params": {"result": "ok\x00"}}, "result"),
    ("POST", f"{V1}/oidc/city/token", {"json": {"code": "c", "state": "st\x00ate"}}, "state"),
]


def admin_headers(settings) -> dict:
    return {"Authorization": f"Bearer {issue_token(settings, 'u-admin-1', 'admin', '510107000000000')}"}


def check(client, settings) -> None:
    auth = admin_headers(settings)
    for method, url, kwargs, field in BAD:
        r = client.request(method, url, headers=auth, **kwargs)
        assert r.status_code == 422, (method, url, r.status_code, r.text)
        assert r.json()["error"]["field"] == field, (url, r.text)
    # A name no user can have is looked for nowhere: it fails like any unknown name.
    r = client.post(f"{V1}/tokens/password", json={"username": "admin\x00-1", "password": "Wrong-Password-1"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "signin.failed"


def test_bad_ids_filters_and_states_are_refused_by_their_schema(client, rt):
    check(client, rt.settings)


@pytest.mark.postgres
def test_on_postgresql_too(tmp_path, pg_database):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    upgrade("identity", pg_database)
    rt = SPEC.runtime(settings, pg_database)
    try:
        SPEC.seed(rt)
        check(TestClient(SPEC.app(rt), raise_server_exceptions=False), settings)
    finally:
        rt.dispose()
