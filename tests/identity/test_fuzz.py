"""Identity's OpenAPI document fuzzed (tests/fuzz.py): no server error, no status it does not list,
with an admin's token and with a resident's.

The fuzzing signs in with wrong passwords, spends codes and disables whoever it finds: it runs on a
runtime of its own (its own database under its own directory), so no demo account another test
signs in with is ever locked or changed by it. WeChat sign-in is on, against the loopback server
speaking code2session (off, it answers 503 signin.wechat_disabled, which schemathesis counts as a
server error however documented)."""

import pytest

from services.identity.api.wechat import CONFIG_KEY
from services.identity.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings
from shared.migrate import upgrade
from tests.fuzz import fuzz

from .servers import WechatLoginServer
from .test_wechat_sign_in import config_for

EXAMPLES = 12
OPENAPI = "/identity/openapi.json"


@pytest.fixture
def own_app(tmp_path, monkeypatch):
    """Identity on a database of the fuzzing's own (never the `rt` other tests share a layout with)."""
    monkeypatch.setenv("CG_TEST_WX_APPID", "wx-mini-app")
    monkeypatch.setenv("CG_TEST_WX_SECRET", "wx-mini-secret")
    settings = get_settings(mode="embedded", var_dir=tmp_path / "fuzzed")
    upgrade("identity", settings.database_url("identity"))
    runtime = SPEC.runtime(settings)
    SPEC.seed(runtime)
    app = SPEC.app(runtime)
    app.state.verifier.state.refresh_seconds = 0
    with WechatLoginServer() as wx:
        runtime.cache[CONFIG_KEY] = config_for(wx.url)
        yield app, settings
    runtime.dispose()


def token_for(settings, user_id: str, role: str, unit: str | None = None):
    """A fresh sign-in per operation: the fuzzing of POST /sign-out ends only its own token."""

    def headers(_operation) -> dict:
        return {"Authorization": f"Bearer {issue_token(settings, user_id, role, unit)}"}

    return headers


@pytest.mark.parametrize(("user_id", "role", "unit"), [
    ("u-admin-1", "admin", "510107000000000"),
    ("u-resident-1", "resident", None),
])
def test_fuzzing_finds_no_server_error_and_no_undocumented_status(own_app, user_id, role, unit):
    app, settings = own_app
    failures = fuzz(app, OPENAPI, headers_for=token_for(settings, user_id, role, unit), examples=EXAMPLES)
    assert failures == []
