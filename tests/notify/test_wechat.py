"""WeChat subscription messages: token cache and refresh, field limits, errcodes 43101/47003/40001/42001."""

from .conftest import DAYTIME, deliver, drain, events, messages, send_once, set_person
from .payloads import dispatched, submitted, warned


def wechat_user(rt, user_id="u-resident-1", openid="openid-resident-1"):
    set_person(rt, user_id, wechat_openid=openid)


def test_a_subscription_message_is_sent_with_a_cached_token_and_fields_within_limits(rt, sender, servers):
    wechat_user(rt)
    deliver(rt, submitted(case_id="c-1"))
    deliver(rt, dispatched(case_id="c-2"))
    drain(sender)
    wx = servers["wechat"]
    assert len(wx.token_calls) == 1 and wx.token_calls[0]["force_refresh"] is False
    assert [s["template_id"] for s in wx.sent] == ["tmpl_case_progress", "tmpl_case_progress"]
    first = next(s for s in wx.sent if s["data"]["phrase2"]["value"] == "已受理")  # sent in parallel
    assert first["touser"] == "openid-resident-1" and first["page"] == "pages/inbox/index"
    assert first["data"] == {"character_string1": {"value": "2026-11-000001"}, "phrase2": {"value": "已受理"},
                             "thing3": {"value": "我们将尽快派单办理"}}
    assert {m.status for m in messages(rt, channel="wechat")} == {"sent"}
    assert messages(rt, channel="wechat")[0].provider_message_id == str(first["msgid"])


def test_an_expired_token_is_refreshed_once_and_the_send_retried_at_once(rt, sender, servers):
    wechat_user(rt)
    deliver(rt, submitted(case_id="c-1"))
    drain(sender)
    servers["wechat"].expire_tokens()  # the next send answers 42001
    deliver(rt, submitted(case_id="c-2"))
    drain(sender)
    calls = servers["wechat"].token_calls
    assert [c["force_refresh"] for c in calls] == [False, True]
    assert len(servers["wechat"].sent) == 2 and {m.status for m in messages(rt, channel="wechat")} == {"sent"}


def test_a_refusal_43101_suppresses_falls_back_and_stops_that_template_for_the_user(rt, sender, servers):
    wechat_user(rt)
    servers["wechat"].errcodes["openid-resident-1"] = 43101
    deliver(rt, submitted(case_id="c-1"))
    drain(sender)
    [wx] = messages(rt, channel="wechat")
    [sms] = messages(rt, channel="sms")
    assert (wx.status, wx.reason) == ("suppressed", "wechat: 43101 user refused")
    assert (sms.status, sms.fallback_from) == ("sent", wx.id)
    assert [e["data"]["reason"] for e in events(rt, "notify.message.suppressed")] == ["wechat: 43101 user refused"]
    # the next message of that template goes straight to SMS: no more refused sends
    deliver(rt, dispatched(case_id="c-2"))
    drain(sender)
    assert len(messages(rt, channel="wechat")) == 1 and len(messages(rt, channel="sms")) == 3


def test_a_bad_field_47003_is_a_permanent_failure_not_retried(rt, sender, servers):
    wechat_user(rt)
    servers["wechat"].errcodes["openid-resident-1"] = 47003
    deliver(rt, submitted())
    drain(sender)
    [wx] = messages(rt, channel="wechat")
    assert (wx.status, wx.attempts, wx.reason) == ("failed", 1, "wechat: 47003")
    assert messages(rt, channel="sms")[0].status == "sent"  # fell back


def test_long_values_are_cut_to_the_field_limits_before_sending(rt, sender, servers):
    set_person(rt, "u-grid-worker-001001", wechat_openid="openid-worker", channels=["wechat"])
    deliver(rt, warned())  # thing3 = "{clock}时限{deadline}到期"
    drain(sender)
    [sent] = servers["wechat"].sent  # the loopback server answers 47003 to any field over its limit
    assert all(len(v["value"]) <= 20 for k, v in sent["data"].items() if k.startswith("thing"))
    assert len(sent["data"]["phrase2"]["value"]) <= 5


def test_an_invalid_token_40001_with_bad_credentials_is_retried_later(rt, servers):
    from services.notify.sender import Sender

    from .conftest import loopback_config
    wechat_user(rt)
    bad = Sender(rt, loopback_config(servers, wechat={"secret": "wrong"}))
    try:
        deliver(rt, submitted())
        send_once(bad, DAYTIME)
    finally:
        bad.close()
    [wx] = messages(rt, channel="wechat")
    assert (wx.status, wx.reason) == ("queued", "wechat: RuntimeError")


def test_subscribing_again_after_a_refusal_resumes_that_template(rt, sender, servers, client):
    from .conftest import auth

    wechat_user(rt)
    servers["wechat"].errcodes["openid-resident-1"] = 43101
    deliver(rt, submitted(case_id="c-1"))
    drain(sender)
    servers["wechat"].errcodes.pop("openid-resident-1")
    r = client.post("/notify/v1/me/wechat-subscriptions", json={"template_ids": ["tmpl_case_progress"]},
                    headers=auth(rt, "u-resident-1"))
    assert r.status_code == 200 and r.json()["cleared_refusals"] == 1
    deliver(rt, dispatched(case_id="c-2"))
    drain(sender)
    assert [m.status for m in messages(rt, channel="wechat")] == ["suppressed", "sent"]
    bad = client.post("/notify/v1/me/wechat-subscriptions", json={"template_ids": []}, headers=auth(rt, "u-resident-1"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "template_ids"
