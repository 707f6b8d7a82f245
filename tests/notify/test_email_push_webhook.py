"""Email over SMTP (a real aiosmtpd server), the HTTP push provider and signed webhooks."""

import hashlib
import hmac
import json
import time

from services.notify.channels.webhook import signature, verify

from .conftest import DAYTIME, auth, deliver, drain, messages, send_once, set_person
from .payloads import dispatched, submitted


def test_an_email_reaches_the_smtp_server_in_the_recipients_language(rt, sender, servers):
    set_person(rt, "u-resident-1", channels=["email"], email="resident1@example.com", lang="en")
    deliver(rt, submitted())
    drain(sender)
    [envelope] = servers["smtp"].handler.messages
    assert envelope.rcpt_tos == ["resident1@example.com"]
    text = envelope.content.decode()
    assert "Subject: Request received" in text and "2026-11-000001" in text
    [m] = messages(rt, channel="email")
    assert m.status == "sent" and m.id in m.provider_message_id


def test_a_mailbox_refused_with_550_fails_permanently_and_dead_letters(rt, sender, servers):
    set_person(rt, "u-resident-1", channels=["email"], email="gone@example.com")
    servers["smtp"].handler.refuse.add("gone@example.com")
    deliver(rt, submitted())
    drain(sender)
    [m] = messages(rt, channel="email")
    assert (m.status, m.reason) == ("failed", "email: recipient refused 550") and m.dead_at is not None


def test_a_push_reaches_the_provider_and_its_receipt_marks_it_delivered(rt, sender, servers, client):
    set_person(rt, "u-grid-worker-001001", push_token="device-1")
    deliver(rt, dispatched())
    drain(sender)
    [push] = servers["push"].sent
    assert push["token"] == "device-1" and push["title"] == "新工单待签收" and push["priority"] == "normal"
    [m] = messages(rt, channel="push")
    body = json.dumps({"message_id": m.id, "status": "delivered"}).encode()
    r = client.post("/notify/v1/callbacks/push", content=body, headers={"X-Push-Signature": "0" * 64})
    assert r.status_code == 401
    good = hmac.new(b"push-callback-secret", body, hashlib.sha256).hexdigest()
    r = client.post("/notify/v1/callbacks/push", content=body, headers={"X-Push-Signature": good})
    assert r.status_code == 200 and messages(rt, channel="push")[0].status == "delivered"


def test_an_unregistered_device_410_falls_back_to_sms(rt, sender, servers):
    set_person(rt, "u-grid-worker-001001", push_token="device-gone")
    servers["push"].status["device-gone"] = 410
    deliver(rt, dispatched())
    drain(sender)
    assert messages(rt, channel="push")[0].reason == "push: HTTP 410"
    assert [(s["phone"], s["template"]) for s in servers["sms"].sent if s["phone"] == "13800000005"] == [
        ("13800000005", "SMS_470200001")]


def test_webhooks_are_signed_timestamped_retried_and_replay_safe(rt, sender, servers, client):
    hook = servers["webhook"]
    admin = auth(rt, "u-admin-1", "admin")
    r = client.post("/notify/v1/webhooks", headers=auth(rt, "u-resident-1"),
                    json={"name": "12345", "url": hook.url, "event_patterns": ["routing.case.*"]})
    assert r.status_code == 403
    r = client.post("/notify/v1/webhooks", headers=admin,
                    json={"name": "市12345平台", "url": hook.url + "/hooks", "event_patterns": ["routing.case.*"]})
    assert r.status_code == 201, r.text
    hook.secret = r.json()["secret"]
    assert "secret" not in client.get("/notify/v1/webhooks", headers=admin).json()[0] or \
        client.get("/notify/v1/webhooks", headers=admin).json()[0]["secret"] is None
    deliver(rt, submitted())  # not subscribed
    env, _ = deliver(rt, dispatched())
    hook.fail_next = 1
    send_once(sender, DAYTIME)
    [m] = messages(rt, channel="webhook")
    assert (m.status, m.reason) == ("queued", "webhook: HTTP 503")
    drain(sender, now=DAYTIME.replace(hour=3))
    [got] = hook.received
    assert got["id"] == env.id and got["type"] == "routing.case.dispatched" and "13800000001" not in json.dumps(got)
    # a captured request replayed: same delivery id → refused; an old timestamp → refused
    body = json.dumps(got).encode()
    ts = str(int(time.time()))
    headers = {"x-cg-timestamp": ts, "x-cg-delivery": m.id, "x-cg-signature": signature(hook.secret, ts, m.id, body)}
    assert not verify(hook.secret, headers, body, hook.seen)
    old = str(int(time.time()) - 3600)
    stale = {"x-cg-timestamp": old, "x-cg-delivery": "new-id",
             "x-cg-signature": signature(hook.secret, old, "new-id", body)}
    assert not verify(hook.secret, stale, body, set())
    assert not verify("another-secret", {**headers, "x-cg-delivery": "x"}, body, set())
