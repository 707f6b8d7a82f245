"""SMS through the Alibaba Cloud SendSms/SendBatchSms protocol, against a loopback server that
checks the signature; retries with back-off, fallback, the dead-letter queue and delivery reports."""

from datetime import timedelta

from services.notify.channels.sms import sign

from .conftest import DAYTIME, deliver, drain, events, messages, send_once, set_person
from .payloads import dispatched, submitted


def test_the_signature_matches_the_documented_example():
    # Alibaba Cloud's RPC signature documentation: these parameters, secret "testsecret"
    params = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
              "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
    assert sign(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_a_queued_sms_is_sent_with_the_template_code_signature_and_no_personal_data(rt, sender, servers):
    deliver(rt, submitted())
    assert send_once(sender, DAYTIME) == 1
    [sent] = servers["sms"].sent
    assert sent == {"phone": "13800000001", "sign": "玉林街道", "template": "SMS_470100001",
                    "params": {"case_no": "2026-11-000001"}, "out_id": sent["out_id"], "biz_id": sent["biz_id"]}
    [m] = messages(rt, channel="sms")
    assert (m.status, m.provider_message_id, m.id) == ("sent", sent["biz_id"], sent["out_id"])
    [event] = events(rt, "notify.message.sent")
    assert event["data"]["provider_message_id"] == sent["biz_id"] and "13800000001" not in str(event)


def test_many_messages_of_one_template_go_out_in_one_batch_call(rt, sender, servers):
    for i in range(5):
        deliver(rt, submitted(case_id=f"c-{i}"))
    assert send_once(sender, DAYTIME) == 5
    assert servers["sms"].calls == 1 and len(servers["sms"].sent) == 5
    assert {m.status for m in messages(rt, channel="sms")} == {"sent"}


def test_a_wrong_secret_is_refused_by_the_provider_and_not_retried(rt, servers):
    from services.notify.sender import Sender

    from .conftest import loopback_config
    cfg = loopback_config(servers, sms={"access_key_secret": "wrong"})
    bad = Sender(rt, cfg)
    try:
        deliver(rt, submitted())
        send_once(bad, DAYTIME)
    finally:
        bad.close()
    [m] = messages(rt, channel="sms")
    assert (m.status, m.reason) == ("failed", "sms: SignatureDoesNotMatch")
    assert m.dead_at is not None  # resident-1 has no other channel: dead-letter queue


def test_a_transient_failure_is_retried_after_an_increasing_delay_then_sent(rt, sender, servers):
    deliver(rt, submitted())
    servers["sms"].http_errors = 2
    send_once(sender, DAYTIME)
    [m] = messages(rt, channel="sms")
    assert (m.status, m.attempts, m.next_attempt_at) == ("queued", 1, DAYTIME + timedelta(seconds=30))
    assert send_once(sender, DAYTIME + timedelta(seconds=10)) == 0  # not due yet
    send_once(sender, DAYTIME + timedelta(seconds=30))
    [m] = messages(rt, channel="sms")
    assert (m.status, m.attempts, m.next_attempt_at) == ("queued", 2, DAYTIME + timedelta(seconds=150))
    send_once(sender, DAYTIME + timedelta(seconds=150))
    [m] = messages(rt, channel="sms")
    assert (m.status, m.attempts) == ("sent", 3) and len(servers["sms"].sent) == 1


def test_retries_exhausted_go_to_the_dead_letter_queue_with_the_reason(rt, sender, servers):
    deliver(rt, submitted())
    servers["sms"].http_errors = 100
    now = DAYTIME
    for _ in range(6):
        send_once(sender, now)
        now += timedelta(hours=2)
    [m] = messages(rt, channel="sms")
    assert m.status == "failed" and m.attempts == 4 and m.dead_at is not None
    assert m.reason == "retries exhausted: sms: InternalError"
    [failed] = events(rt, "notify.message.failed")
    assert failed["data"]["permanent"] is True


def test_a_permanent_provider_error_falls_back_to_the_next_channel(rt, sender, servers):
    set_person(rt, "u-resident-1", email="resident1@example.com")
    servers["sms"].codes["13800000001"] = "isv.MOBILE_NUMBER_ILLEGAL"
    deliver(rt, submitted())
    drain(sender)
    sms, email = (messages(rt, channel=c)[0] for c in ("sms", "email"))
    assert (sms.status, sms.reason, sms.dead_at) == ("failed", "sms: isv.MOBILE_NUMBER_ILLEGAL", None)
    assert (email.status, email.fallback_from) == ("sent", sms.id)
    assert len(servers["smtp"].handler.messages) == 1


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


def test_a_throttled_number_is_retried_not_failed(rt, sender, servers):
    servers["sms"].codes["13800000001"] = "isv.BUSINESS_LIMIT_CONTROL"
    deliver(rt, submitted())
    send_once(sender, DAYTIME)
    [m] = messages(rt, channel="sms")
    assert (m.status, m.reason) == ("queued", "sms: isv.BUSINESS_LIMIT_CONTROL")


def test_delivery_reports_mark_messages_delivered_or_failed(rt, sender, servers, client):
    set_person(rt, "u-grid-worker-001001", channels=["sms", "email"], email="zhang@example.com")
    deliver(rt, dispatched())
    send_once(sender, DAYTIME)  # two numbers, one template each: SendSms twice
    sent = {s["phone"]: s for s in servers["sms"].sent}
    reports = [
        {"phone_number": "13800000001", "success": True, "biz_id": sent["13800000001"]["biz_id"],
         "out_id": sent["13800000001"]["out_id"], "err_code": "DELIVERED"},
        {"phone_number": "13800000005", "success": False, "biz_id": sent["13800000005"]["biz_id"],
         "out_id": sent["13800000005"]["out_id"], "err_code": "MK:0001"},
    ]
    r = client.post("/notify/v1/callbacks/sms/aliyun", params={"token": "wrong"}, json=reports)
    assert r.status_code == 401 and r.json()["error"]["code"] == "notify.bad_signature"
    r = client.post("/notify/v1/callbacks/sms/aliyun", params={"token": "sms-callback-token"}, json=reports)
    assert r.json() == {"code": 0, "msg": "成功"}
    states = {m.recipient_id: (m.status, m.reason) for m in messages(rt, channel="sms")}
    assert states == {"u-resident-1": ("delivered", None), "u-grid-worker-001001": ("failed", "sms report: MK:0001")}
    # the worker's undelivered SMS falls back to email; a repeated report changes nothing
    client.post("/notify/v1/callbacks/sms/aliyun", params={"token": "sms-callback-token"}, json=reports)
    assert [m.status for m in messages(rt, channel="email")] == ["queued"]
    assert len(events(rt, "notify.message.delivered")) == 1


def test_a_batch_taken_up_by_another_sender_after_its_lease_is_recorded_only_by_that_sender(rt, sender, servers):
    deliver(rt, submitted())
    claimed = sender.claim(DAYTIME)
    assert len(claimed) == 1
    # The first sender stalls past its lease; a second claim takes the message up again.
    later = DAYTIME + timedelta(seconds=sender.lease_seconds + 1)
    again = sender.claim(later)
    assert [i.message_id for i in again] == [claimed[0].message_id]
    sender.record(claimed, sender.deliver(claimed), DAYTIME)  # the stale recorder: not its message now
    [m] = messages(rt, channel="sms")
    assert m.status == "sending"
    sender.record(again, sender.deliver(again), later)
    [m] = messages(rt, channel="sms")
    assert m.status == "sent" and len(events(rt, "notify.message.sent")) == 1


def test_the_lease_covers_the_slowest_delivery_of_a_batch(sender):
    policy = sender.cfg.policy
    assert sender.lease_seconds >= -(-policy.batch // policy.workers) * policy.http_timeout_seconds
