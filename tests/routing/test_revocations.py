"""A service learns from identity's events which tokens to refuse and which API keys to accept."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.routing.service import SPEC
from shared.auth import issue_token
from shared.auth_state import key_hash
from shared.config import get_settings
from shared.events.identity import ApiKeyChanged, SessionRevoked, UserChanged

from .conftest import Harness


@pytest.fixture
def fresh(tmp_path):
    """Routing whose copy of identity's state is never stale (the default allows 2 seconds)."""
    settings = get_settings(var_dir=tmp_path, mode="embedded", auth_state_refresh_seconds=0)
    rt = SPEC.runtime(settings, f"sqlite:///{tmp_path / 'routing.sqlite'}")
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    yield Harness(rt)
    rt.dispose()


def units(h, token: str) -> int:
    return h.client.get("/routing/v1/units", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_signed_out_session_and_a_disabled_user_are_refused_as_soon_as_the_event_arrives(fresh):
    settings = fresh.rt.settings
    token = issue_token(settings, "u-street-dispatcher-1", "street_dispatcher", "510107001000000", session_id="s-1")
    other = issue_token(settings, "u-street-dispatcher-1", "street_dispatcher", "510107001000000", session_id="s-2")
    assert units(fresh, token) == 200
    fresh.feed(SessionRevoked(session_id="s-1", user_id="u-street-dispatcher-1", reason="signed_out",
                              at=datetime.now(UTC)))
    assert units(fresh, token) == 401 and units(fresh, other) == 200
    fresh.feed(UserChanged(user_id="u-street-dispatcher-1", kind="staff", role="street_dispatcher",
                           unit_codes=["510107001000000"], active=False, at=datetime.now(UTC)))
    assert units(fresh, other) == 401


def test_an_api_key_is_accepted_once_issued_and_refused_once_revoked_or_expired(fresh):
    from fastapi import APIRouter

    from shared.auth import CurrentApiClient

    probe = APIRouter()

    @probe.get("/probe")
    def who(client: CurrentApiClient) -> dict:
        return {"key_id": client.key_id, "scopes": sorted(client.scopes), "area": client.area_code}

    app = SPEC.app(fresh.rt)
    app.include_router(probe, prefix="/routing")
    client = TestClient(app)
    secret = "cgk_k1_" + "s" * 43
    now = datetime.now(UTC)

    def key(**changes):
        values = dict(key_id="k1", key_hash=key_hash(secret), name="12345 平台", scopes=["work_orders:read"],
                      area_code="510107001000000", expires_at=now + timedelta(days=30), at=datetime.now(UTC))
        return ApiKeyChanged(**{**values, **changes})

    assert client.get("/routing/probe", headers={"X-API-Key": secret}).status_code == 401
    fresh.feed(key())
    r = client.get("/routing/probe", headers={"X-API-Key": secret})
    assert r.status_code == 200 and r.json() == {"key_id": "k1", "scopes": ["work_orders:read"],
                                                 "area": "510107001000000"}
    assert client.get("/routing/probe", headers={"X-API-Key": secret + "x"}).json()["error"]["code"] == \
        "auth.invalid_api_key"
    assert client.get("/routing/probe").json()["error"]["code"] == "auth.missing_api_key"
    fresh.feed(key(revoked_at=datetime.now(UTC)))
    assert client.get("/routing/probe", headers={"X-API-Key": secret}).status_code == 401
    fresh.feed(key(at=now - timedelta(days=1)))  # a late copy of the issue never undoes the revocation
    assert client.get("/routing/probe", headers={"X-API-Key": secret}).status_code == 401
    # Its use was reported for identity's last-used time.
    assert "routing.api_key.used" in [e.type for e, _ in fresh.events()]
