"""Defects found in review: each test failed before its fix."""

import hashlib
import time
from datetime import UTC, datetime

from sqlalchemy import event

from services.notify.handlers import sender_wakeup
from services.notify.sender import Sender

from .conftest import auth, deliver, drain, loopback_config, messages, set_person
from .payloads import submitted

TWO_AM = datetime(2030, 1, 2, 18, 0, tzinfo=UTC)  # 02:00 on 3 January in Chengdu
SEVEN_AM = datetime(2030, 1, 2, 23, 0, tzinfo=UTC)  # 07:00 the same local day


def test_messages_deferred_by_quiet_hours_do_not_use_up_the_daily_sms_limit(rt, sender, servers):
    # Two SMS deferred at 02:00 and sent at 07:00 the same local day are two sends, not four.
    set_person(rt, "u-resident-1", sms_daily_limit=3)
    deliver(rt, submitted(case_id="c-1"))
    deliver(rt, submitted(case_id="c-2"))
    assert sender.run_once(TWO_AM) == 0
    drain(sender, now=SEVEN_AM)
    assert len(servers["sms"].sent) == 2
    assert {m.status for m in messages(rt, channel="sms")} == {"sent"}


def test_a_sender_with_no_channel_configured_does_not_query_the_database(rt, servers):
    off = {"enabled": False}
    idle = Sender(rt, loopback_config(servers, sms=off, wechat=off, push=off, email=off, webhook=off))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        assert idle.run_once() == 0
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
        idle.close()
    assert statements == []


def test_an_event_that_queues_nothing_external_does_not_wake_the_sender(rt):
    wake = sender_wakeup(rt)
    wake.clear()
    deliver(rt, submitted(reporter="u-new-resident"))  # only an inbox message: nothing for the sender
    assert not wake.is_set()
    deliver(rt, submitted(case_id="c-2"))  # an SMS is queued
    assert wake.is_set()


def test_one_bad_number_in_an_sms_batch_does_not_fail_the_others(rt, sender, servers):
    servers["sms"].codes["13800000001"] = "isv.MOBILE_NUMBER_ILLEGAL"
    deliver(rt, submitted(case_id="c-1", reporter="u-resident-1"))
    deliver(rt, submitted(case_id="c-2", reporter="u-resident-2"))
    drain(sender)
    by_person = {m.recipient_id: m for m in messages(rt, channel="sms")}
    assert by_person["u-resident-2"].status == "sent"
    assert (by_person["u-resident-1"].status, by_person["u-resident-1"].reason) == (
        "failed", "sms: isv.MOBILE_NUMBER_ILLEGAL")
    assert [s["phone"] for s in servers["sms"].sent] == ["13800000002"]


def test_staff_see_delivery_states_but_not_which_resident_they_went_to(rt, client):
    # 保密: a confidential requester's id must not reach any staff member through notify.
    deliver(rt, submitted(confidential=True))
    states = client.get("/notify/v1/messages", params={"subject_id": "c-1"},
                        headers=auth(rt, "u-grid-worker-009", "grid_worker")).json()
    assert states and all(s["recipient_id"] is None for s in states)
    assert "u-resident-1" not in str(states)


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


def test_a_resident_joining_a_case_is_told_and_the_event_does_not_fail(rt):
    from shared.events.intake import CaseJoined

    from .payloads import AT
    env, _ = deliver(rt, CaseJoined(case_id="c-1", user_id="u-resident-2", interest_count=2, at=AT))
    assert [(m.recipient_id, m.title) for m in messages(rt, event_id=env.id, channel="inbox")] == [
        ("u-resident-2", "已关注该诉求")]


def test_every_rule_finds_its_template_variables_in_the_event():
    # A variable the payload lacks makes every such event fail in the consumer.
    from services.notify.directory import rules
    from services.notify.templates import load_catalogue
    from shared.events import registered
    catalogue = load_catalogue("玉林街道", [])
    payloads = {etype: cls for (etype, _), cls in registered().items()}
    for etype, rule_list in rules()["events"].items():
        fields = set(payloads[etype].model_fields)
        for rule in rule_list:
            missing = catalogue[rule["template"]].variables - fields - set(rule.get("vars", {}))
            assert not missing, (etype, rule["template"], missing)
