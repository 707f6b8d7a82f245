"""Provider callbacks are authenticated before anything in them is read: a stale or malformed
credential is refused as a 401, never a 500."""

import hashlib
import time


def _wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def test_a_wechat_callback_with_an_old_timestamp_is_refused(rt, client):
    # The signature covers the token, timestamp and nonce, not the body: a captured query string
    # must not be usable later with another body.
    old = str(int(time.time()) - 3600)
    params = {"signature": _wechat_signature("wx-callback-token", old, "n1"), "timestamp": old, "nonce": "n1"}
    r = client.post("/notify/v1/callbacks/wechat", params=params, json={"Event": "subscribe_msg_sent_event"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "notify.bad_signature"
    now = str(int(time.time()))
    params = {"signature": _wechat_signature("wx-callback-token", now, "n2"), "timestamp": now, "nonce": "n2"}
    assert client.post("/notify/v1/callbacks/wechat", params=params, json={"Event": "x"}).text == "success"


def test_a_non_ascii_callback_credential_is_a_401_not_a_500(rt, client):
    r = client.post("/notify/v1/callbacks/sms/aliyun", params={"token": "令牌"}, json=[])
    assert r.status_code == 401
    r = client.post("/notify/v1/callbacks/wechat", params={"signature": "签名", "timestamp": str(int(time.time())),
                                                            "nonce": "n"}, json={})
    assert r.status_code == 401


def test_a_signed_wechat_event_with_malformed_items_is_ignored_not_a_500(rt, client):
    now = str(int(time.time()))
    params = {"signature": _wechat_signature("wx-callback-token", now, "n3"), "timestamp": now, "nonce": "n3"}
    body = {"Event": "subscribe_msg_sent_event", "List": ["x", 1, None, {"MsgID": {"a": 1}, "ErrorCode": 0}]}
    r = client.post("/notify/v1/callbacks/wechat", params=params, json=body)
    assert r.status_code == 200 and r.text == "success"
