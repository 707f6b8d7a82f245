"""Residents from the WeChat mini-program (code2session against a loopback server speaking
WeChat's protocol and error bodies), and a signed-in resident linking a verified phone."""

import socket

import pytest
from sqlalchemy import select, text, update

from services.identity import tokens
from services.identity.api.wechat import CONFIG_KEY
from services.identity.config import WechatConfig
from services.identity.models import SignInAttempt, User
from shared.db import utcnow
from shared.keys import blind_index, data_keys, signing_keys

from .conftest import bearer, events
from .servers import WechatLoginServer

DEMO = "13800000001"  # u-resident-1
NEW = "13912345678"


def config_for(url: str, enabled: bool = True) -> WechatConfig:
    return WechatConfig(enabled=enabled, endpoint=url, appid_env="CG_TEST_WX_APPID", secret_env="CG_TEST_WX_SECRET",
                        timeout_seconds=2)


@pytest.fixture
def wx(rt, monkeypatch):
    monkeypatch.setenv("CG_TEST_WX_APPID", "wx-mini-app")
    monkeypatch.setenv("CG_TEST_WX_SECRET", "wx-mini-secret")
    with WechatLoginServer() as server:
        rt.cache[CONFIG_KEY] = config_for(server.url)
        yield server


def wechat(client, code: str, **extra):
    return client.post("/identity/v1/tokens/wechat", json={"code": code, **extra})


def sms_code(client, rt, phone: str, purpose: str = "sign_in", headers: dict | None = None) -> str:
    assert client.post("/identity/v1/sms-codes", json={"phone": phone, "purpose": purpose},
                       headers=headers or {}).status_code == 202
    d = events(rt, "identity.code.requested")[-1]["data"]
    return data_keys(rt.settings).open(d["code_sealed"], f"sms-code:{d['challenge_id']}")


def user(rt, user_id: str) -> User:
    with rt.uow() as session:
        row = session.get(User, user_id)
        session.expunge(row)
        return row


def attempts(rt, method: str) -> list[str]:
    with rt.uow() as session:
        return list(session.scalars(select(SignInAttempt.result).where(SignInAttempt.method == method)
                                    .order_by(SignInAttempt.id)))


def test_a_new_wechat_user_becomes_a_resident_and_signs_in_again_as_the_same(client, rt, wx):
    first = wechat(client, wx.login("oOPENID-new-0001", unionid="uUNION-0001"))
    assert first.status_code == 200 and first.json()["role"] == "resident"
    again = wechat(client, wx.login("oOPENID-new-0001"))
    assert again.status_code == 200 and again.json()["user_id"] == first.json()["user_id"]
    resident = user(rt, first.json()["user_id"])
    assert (resident.kind, resident.wechat_openid, resident.wechat_unionid, resident.phone_index) == (
        "resident", "oOPENID-new-0001", "uUNION-0001", None)
    assert len([e for e in events(rt, "identity.user.changed") if e["data"]["user_id"] == resident.id]) == 1
    assert wx.requests[0] == {"appid": "wx-mini-app", "secret": "wx-mini-secret",
                              "js_code": wx.requests[0]["js_code"], "grant_type": "authorization_code"}
    assert attempts(rt, "wechat") == ["ok", "ok"]


def test_the_session_key_is_never_stored(client, rt, wx):
    wechat(client, wx.login("oOPENID-sk-0001"))
    [session_key] = wx.issued_session_keys
    with rt.uow() as session:
        names = session.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all()
        stored = str([list(session.execute(text(f'SELECT * FROM "{n}"'))) for n in names])
    assert "oOPENID-sk-0001" in stored and session_key not in stored


def test_with_a_verified_phone_the_wechat_account_is_linked_to_that_resident(client, rt, wx):
    code = sms_code(client, rt, DEMO)
    response = wechat(client, wx.login("oOPENID-demo-0001", unionid="uUNION-demo"), phone=DEMO, sms_code=code)
    assert response.status_code == 200 and response.json()["user_id"] == "u-resident-1"
    linked = user(rt, "u-resident-1")
    assert (linked.wechat_openid, linked.wechat_unionid) == ("oOPENID-demo-0001", "uUNION-demo")
    # From now on WeChat alone finds them.
    assert wechat(client, wx.login("oOPENID-demo-0001")).json()["user_id"] == "u-resident-1"


def test_with_a_verified_new_phone_the_resident_is_created_with_both(client, rt, wx):
    code = sms_code(client, rt, NEW)
    response = wechat(client, wx.login("oOPENID-both-0001"), phone=NEW, sms_code=code)
    created = user(rt, response.json()["user_id"])
    assert created.wechat_openid == "oOPENID-both-0001"
    assert created.phone_index == blind_index(rt.settings)("+86" + NEW, "phone")


def test_a_wrong_sms_code_with_wechat_is_refused_counted_and_creates_nobody(client, rt, wx):
    code = sms_code(client, rt, NEW)
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = wechat(client, wx.login("oOPENID-bad-0001"), phone=NEW, sms_code=bad)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.code_invalid"
    with rt.uow() as session:
        assert session.scalar(select(User.id).where(User.wechat_openid == "oOPENID-bad-0001")) is None
    assert attempts(rt, "wechat") == ["signin.code_invalid"]


def test_a_phone_without_its_code_or_a_bad_phone_is_refused_before_wechat_is_asked(client, rt, wx):
    missing = wechat(client, wx.login("oOPENID-x-0001"), phone=NEW)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "sms_code"
    bad = wechat(client, wx.login("oOPENID-x-0001"), phone="12345", sms_code="123456")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "signin.bad_phone"
    assert wx.requests == []


@pytest.mark.parametrize(("errcode", "status", "code"), [
    (40029, 401, "signin.wechat_code_invalid"),
    (40163, 401, "signin.wechat_code_invalid"),
    (45011, 503, "signin.wechat_unavailable"),
    (-1, 503, "signin.wechat_unavailable"),
    (40226, 401, "signin.wechat_refused"),
])
def test_each_wechat_error_has_its_answer(client, rt, wx, errcode, status, code):
    login = wx.login("oOPENID-err-0001")
    wx.errcodes[login] = errcode
    refused = wechat(client, login)
    assert refused.status_code == status and refused.json()["error"]["code"] == code
    assert attempts(rt, "wechat") == [code]
    with rt.uow() as session:
        assert session.scalar(select(User.id).where(User.wechat_openid == "oOPENID-err-0001")) is None


def test_an_unknown_code_and_a_code_used_twice_are_refused_by_wechat(client, rt, wx):
    unknown = wechat(client, "never-issued-code")
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "signin.wechat_code_invalid"
    login = wx.login("oOPENID-twice-0001")
    assert wechat(client, login).status_code == 200
    twice = wechat(client, login)  # WeChat answers 40163 code been used
    assert twice.status_code == 401 and twice.json()["error"]["code"] == "signin.wechat_code_invalid"


def test_a_wrong_appsecret_is_our_fault_and_answers_unavailable(client, rt, wx, monkeypatch, caplog):
    monkeypatch.setenv("CG_TEST_WX_SECRET", "not-the-secret")
    refused = wechat(client, wx.login("oOPENID-cfg-0001"))
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "signin.wechat_unavailable"
    assert "40125" in caplog.text and "not-the-secret" not in caplog.text


@pytest.mark.parametrize("trouble", ["http_error", "not_json", "unreachable"])
def test_wechat_out_of_order_or_unreachable_answers_unavailable(client, rt, wx, trouble, caplog):
    if trouble == "http_error":
        wx.http_status = 502
    elif trouble == "not_json":
        wx.garbage = True
    else:
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        rt.cache[CONFIG_KEY] = config_for(f"http://127.0.0.1:{port}")
    refused = wechat(client, wx.login("oOPENID-down-0001"))
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "signin.wechat_unavailable"
    assert "wx-mini-secret" not in caplog.text


@pytest.mark.parametrize("how", ["off", "no_secret"])
def test_wechat_sign_in_not_configured_answers_disabled(client, rt, wx, monkeypatch, how):
    if how == "off":
        rt.cache[CONFIG_KEY] = config_for(wx.url, enabled=False)
    else:
        monkeypatch.delenv("CG_TEST_WX_SECRET")
    refused = wechat(client, "any-code")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "signin.wechat_disabled"
    assert wx.requests == [] and attempts(rt, "wechat") == ["signin.wechat_disabled"]


def test_a_disabled_resident_cannot_sign_in_with_wechat(client, rt, wx):
    first = wechat(client, wx.login("oOPENID-off-0001")).json()["user_id"]
    with rt.uow() as session:
        session.execute(update(User).where(User.id == first).values(active=False))
    refused = wechat(client, wx.login("oOPENID-off-0001"))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.failed"


def test_a_refused_sign_in_of_a_disabled_resident_changes_nothing_about_the_account(client, rt, wx):
    """Found by a verified phone but disabled: refused before the new WeChat account is linked, so
    the binding the resident had stays as it was (and the refusal is kept)."""
    code = sms_code(client, rt, DEMO)
    assert wechat(client, wx.login("oOPENID-mine-0001", unionid="uUNION-mine"), phone=DEMO,
                  sms_code=code).json()["user_id"] == "u-resident-1"
    with rt.uow() as session:
        session.execute(update(User).where(User.id == "u-resident-1").values(active=False))
    before = user(rt, "u-resident-1")
    code = sms_code(client, rt, DEMO)
    refused = wechat(client, wx.login("oOPENID-other-0002", unionid="uUNION-other"), phone=DEMO, sms_code=code)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.failed"
    after = user(rt, "u-resident-1")
    assert (after.wechat_openid, after.wechat_unionid, after.updated_at) == (
        "oOPENID-mine-0001", "uUNION-mine", before.updated_at)
    with rt.uow() as session:
        assert session.scalar(select(User.id).where(User.wechat_openid == "oOPENID-other-0002")) is None
    # Found by their own openid, with a unionid WeChat now gives: refused, and nothing changes either.
    again = wechat(client, wx.login("oOPENID-mine-0001", unionid="uUNION-new"))
    assert again.status_code == 401 and again.json()["error"]["code"] == "signin.failed"
    assert user(rt, "u-resident-1").wechat_unionid == "uUNION-mine"
    assert attempts(rt, "wechat") == ["ok", "signin.failed", "signin.failed"]


def test_a_disabled_resident_without_wechat_is_not_bound_by_a_refused_sign_in(client, rt, wx):
    with rt.uow() as session:
        session.execute(update(User).where(User.id == "u-resident-1").values(active=False))
    refused = wechat(client, wx.login("oOPENID-late-0001", unionid="uUNION-late"), phone=DEMO,
                     sms_code=sms_code(client, rt, DEMO))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.failed"
    resident = user(rt, "u-resident-1")
    assert (resident.wechat_openid, resident.wechat_unionid) == (None, None)


# --------------------------------------------------------------------------- linking a phone


def signed_in_by_wechat(client, wx, openid: str) -> dict:
    return bearer(wechat(client, wx.login(openid)).json()["access_token"])


def test_a_wechat_resident_links_a_verified_phone(client, rt, wx):
    headers = signed_in_by_wechat(client, wx, "oOPENID-link-0001")
    code = sms_code(client, rt, NEW, "link_phone", headers)
    linked = client.post("/identity/v1/me/phone", json={"phone": NEW, "code": code}, headers=headers)
    assert linked.status_code == 200 and linked.json()["phone_verified"] and linked.json()["wechat_linked"]
    # Now the SMS sign-in of that number is the same resident.
    signed = client.post("/identity/v1/tokens/sms", json={"phone": NEW, "code": sms_code(client, rt, NEW)})
    assert signed.json()["user_id"] == linked.json()["id"]
    assert attempts(rt, "link_phone") == ["ok"]


def test_a_code_to_link_a_phone_is_for_a_signed_in_user_only(client, rt):
    refused = client.post("/identity/v1/sms-codes", json={"phone": NEW, "purpose": "link_phone"})
    assert refused.status_code == 401 and events(rt, "identity.code.requested") == []


def test_a_sign_in_code_does_not_link_and_a_link_code_does_not_sign_in(client, rt, wx):
    headers = signed_in_by_wechat(client, wx, "oOPENID-purp-0001")
    sign_in_code = sms_code(client, rt, NEW)
    refused = client.post("/identity/v1/me/phone", json={"phone": NEW, "code": sign_in_code}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "signin.code_invalid"
    link_code = sms_code(client, rt, NEW, "link_phone", headers)
    assert client.post("/identity/v1/tokens/sms", json={"phone": NEW, "code": link_code}).status_code == 401


def test_a_wrong_link_code_is_422_not_401_and_counted(client, rt, wx):
    headers = signed_in_by_wechat(client, wx, "oOPENID-wrong-0001")
    code = sms_code(client, rt, NEW, "link_phone", headers)
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.post("/identity/v1/me/phone", json={"phone": NEW, "code": bad}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "signin.code_invalid"
    assert attempts(rt, "link_phone") == ["signin.code_invalid"]


def test_a_phone_of_another_resident_is_not_moved(client, rt, wx):
    headers = signed_in_by_wechat(client, wx, "oOPENID-taken-0001")
    code = sms_code(client, rt, DEMO, "link_phone", headers)
    refused = client.post("/identity/v1/me/phone", json={"phone": DEMO, "code": code}, headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "user.phone_taken"
    demo_index = blind_index(rt.settings)("+86" + DEMO, "phone")
    assert user(rt, "u-resident-1").phone_index == demo_index
    with rt.uow() as session:
        wechat_user = session.scalar(select(User).where(User.wechat_openid == "oOPENID-taken-0001"))
        assert wechat_user.phone_index is None
    # The code did its one job: it does not work a second time.
    again = client.post("/identity/v1/me/phone", json={"phone": DEMO, "code": code}, headers=headers)
    assert again.status_code == 422


def test_staff_link_no_phone(client, rt):
    with rt.uow() as session:  # a staff member's session, as `make token` opens one
        token = tokens.start(session, rt.settings, signing_keys(rt.settings), session.get(User, "u-operator-1"),
                             "demo", utcnow()).access_token
    refused = client.post("/identity/v1/me/phone", json={"phone": NEW, "code": "123456"}, headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "user.not_resident"
