"""Government systems' API keys: issued by an admin and shown once, hashed at rest (here and in
every event), scoped, expiring, revocable, with their last use recorded."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.identity import config
from services.identity.models import ApiKey, auth
from shared.db import utcnow

from .conftest import events
from .staff import admin, headers

KEYS = "/identity/v1/api-keys"
CLIENT = "/identity/v1/api-client"


def issue(client, auth_headers, **body):
    body = {"name": "12345热线平台", "scopes": ["cases:create", "cases:read"], **body}
    return client.post(KEYS, json=body, headers=auth_headers)


def test_a_key_is_shown_once_and_proves_itself(client, rt):
    r = issue(client, admin(client), area_code="510107001000000", expires_in_days=30)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    made = r.json()
    key = made["key"]
    assert re.fullmatch(rf"cgk_{made['id']}_[A-Za-z0-9_-]{{43}}", key)  # 256 random bits
    assert made["scopes"] == ["cases:create", "cases:read"] and made["area_code"] == "510107001000000"
    assert made["created_by"] == "u-admin-1" and made["last_used_at"] is None
    r = client.get(CLIENT, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    assert r.json() == {"key_id": made["id"], "name": "12345热线平台", "scopes": ["cases:create", "cases:read"],
                        "area_code": "510107001000000"}
    # Listed without the key; its use is recorded.
    listed = client.get(KEYS, headers=admin(client))
    assert listed.status_code == 200 and key not in listed.text
    [view] = listed.json()
    assert "key" not in view and view["last_used_at"] is not None


def test_a_key_is_hashed_at_rest_and_never_travels(client, rt):
    made = issue(client, admin(client)).json()
    key = made["key"]
    secret = key.removeprefix(f"cgk_{made['id']}_")
    digest = hashlib.sha256(key.encode()).hexdigest()
    with rt.uow() as session:
        row = session.scalars(select(ApiKey)).one()
        assert row.key_hash == digest
        assert session.execute(select(auth.api_keys.c.key_hash)).scalar_one() == digest
    raw = b"".join(p.read_bytes() for p in rt.settings.var_dir.glob("identity.sqlite*"))
    assert key.encode() not in raw and secret.encode() not in raw
    [changed] = events(rt, "identity.api_key.changed")
    assert changed["data"]["key_hash"] == digest and key not in json.dumps(changed)


def test_a_key_gets_only_known_scopes_an_area_code_and_a_bounded_life(client, rt):
    auth_headers = admin(client)
    r = issue(client, auth_headers, scopes=["cases:create", "everything"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "api_key.bad_scope"
    assert r.json()["error"]["detail"] == "everything"
    assert issue(client, auth_headers, scopes=[]).status_code == 422
    too_long = config.get().api_keys.max_days + 1
    r = issue(client, auth_headers, expires_in_days=too_long)
    assert r.status_code == 422 and r.json()["error"]["code"] == "api_key.bad_expiry"
    assert issue(client, auth_headers, expires_in_days=0).json()["error"]["code"] == "api_key.bad_expiry"
    r = issue(client, auth_headers, area_code="5101 07")
    assert r.status_code == 422 and r.json()["error"]["code"] == "user.bad_unit"
    r = issue(client, auth_headers, area_code="999")  # well formed, but no unit: an area matching nothing
    assert r.status_code == 422 and r.json()["error"]["code"] == "user.unknown_unit"
    assert r.json()["error"]["field"] == "area_code"
    with rt.uow() as session:
        assert session.scalars(select(ApiKey)).all() == []
    # Without a lifetime: the longest allowed.
    made = issue(client, auth_headers).json()
    with rt.uow() as session:
        row = session.get(ApiKey, made["id"])
        assert row.expires_at - row.created_at == timedelta(days=config.get().api_keys.max_days)


def test_an_expired_key_is_refused(client, rt):
    made = issue(client, admin(client), expires_in_days=1).json()
    assert client.get(CLIENT, headers={"X-API-Key": made["key"]}).status_code == 200
    past = utcnow() - timedelta(minutes=1)
    with rt.uow() as session:  # a day later
        session.execute(update(ApiKey).where(ApiKey.id == made["id"]).values(expires_at=past))
        session.execute(update(auth.api_keys).where(auth.api_keys.c.key_id == made["id"])
                        .values(expires_at=past, version=auth.api_keys.c.version + 1))
    r = client.get(CLIENT, headers={"X-API-Key": made["key"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.invalid_api_key"


def test_a_revoked_key_is_refused_and_every_service_is_told(client, rt):
    auth_headers = admin(client)
    made = issue(client, auth_headers).json()
    assert client.get(CLIENT, headers={"X-API-Key": made["key"]}).status_code == 200
    assert client.delete(f"{KEYS}/{made['id']}", headers=auth_headers).status_code == 204
    r = client.get(CLIENT, headers={"X-API-Key": made["key"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.invalid_api_key"
    changed = events(rt, "identity.api_key.changed")
    assert [e["data"]["revoked_at"] is not None for e in changed] == [False, True]
    [view] = client.get(KEYS, headers=auth_headers).json()
    assert view["revoked_at"] is not None
    # Again: nothing more happens. An unknown key: 404.
    assert client.delete(f"{KEYS}/{made['id']}", headers=auth_headers).status_code == 204
    assert len(events(rt, "identity.api_key.changed")) == 2
    r = client.delete(f"{KEYS}/nope", headers=auth_headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "api_key.not_found"


def test_a_missing_or_wrong_key_is_refused(client):
    r = client.get(CLIENT)
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.missing_api_key"
    made = issue(client, admin(client)).json()
    forged = made["key"][:-4] + ("AAAA" if not made["key"].endswith("AAAA") else "BBBB")
    r = client.get(CLIENT, headers={"X-API-Key": forged})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.invalid_api_key"


def test_keys_are_managed_by_admins_only(client, rt):
    supervisor = headers(client, "supervisor-1")
    assert issue(client, supervisor).status_code == 403
    assert client.get(KEYS, headers=supervisor).status_code == 403
    made = issue(client, admin(client)).json()
    assert client.delete(f"{KEYS}/{made['id']}", headers=supervisor).status_code == 403
    assert issue(client, {}).status_code == 401
    assert client.get(KEYS).status_code == 401
    assert client.delete(f"{KEYS}/{made['id']}").status_code == 401
    assert client.get(CLIENT, headers={"X-API-Key": made["key"]}).status_code == 200  # still valid


@pytest.mark.parametrize("name", ["", "   ", "12345\x00热线", "热线\n平台", "\x1b]0;pwned\x07", "热线\u202e平台"])
def test_a_blank_key_name_or_one_with_control_characters_is_refused(client, rt, name):
    r = issue(client, admin(client), name=name)
    assert r.status_code == 422 and r.json()["error"]["field"] == "name"
    with rt.uow() as session:
        assert session.scalars(select(ApiKey)).all() == []
    assert events(rt, "identity.api_key.changed") == []


def test_a_key_name_is_kept_without_surrounding_spaces(client):
    made = issue(client, admin(client), name="  12345热线平台 \n")
    assert made.status_code == 201 and made.json()["name"] == "12345热线平台"
