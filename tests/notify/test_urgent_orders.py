"""Issue 12: a 特急 or 紧急 case's work orders do not wait out the handler's quiet hours, are not held
by a per-number limit, and a failing channel hands them to the next at once (rules.json `urgent_orders`).
Routing's events do not carry the urgency: notify keeps it from intake's events (cases.py)."""

from datetime import timedelta

from .conftest import NIGHT, deliver, drain, messages, send_once, set_person
from .payloads import dispatched, overdue, submitted, urgency_changed, warned

WORKER = "u-grid-worker-001001"


def test_a_night_time_life_at_risk_order_reaches_the_handler_at_once_instead_of_at_seven(rt, sender, servers):
    set_person(rt, WORKER, push_token="device-worker")
    deliver(rt, submitted(urgency="特急"))  # a gas leak at night: sign-for due in 15 minutes
    env, _ = deliver(rt, dispatched())
    [push] = messages(rt, event_id=env.id, recipient_id=WORKER, channel="push")
    assert push.urgent and push.template == "workorder.new"
    drain(sender, now=NIGHT)
    assert [p["token"] for p in servers["push"].sent] == ["device-worker"]
    assert messages(rt, event_id=env.id, recipient_id=WORKER, channel="push")[0].status == "sent"


def test_an_ordinary_order_still_waits_for_the_end_of_quiet_hours(rt, sender, servers):
    set_person(rt, WORKER, push_token="device-worker")
    deliver(rt, submitted())  # 一般
    env, _ = deliver(rt, dispatched())
    drain(sender, now=NIGHT)
    [push] = messages(rt, event_id=env.id, recipient_id=WORKER, channel="push")
    assert (push.urgent, push.status, push.reason) == (False, "queued", "quiet_hours")
    assert servers["push"].sent == []


def test_an_urgent_utility_orders_warning_goes_out_in_quiet_hours(rt, sender, servers):
    set_person(rt, WORKER, push_token="device-worker")
    deliver(rt, submitted(urgency="紧急"))
    env, _ = deliver(rt, warned())
    drain(sender, now=NIGHT)
    assert len(servers["push"].sent) == 1
    assert messages(rt, event_id=env.id, channel="push")[0].urgent


def test_an_urgency_raised_after_dispatch_makes_the_next_warning_urgent_and_a_late_older_change_does_not_undo_it(
        rt, sender, servers):
    deliver(rt, submitted())
    deliver(rt, urgency_changed(urgency="特急", previous="一般", at=submitted().submitted_at + timedelta(minutes=5)))
    # an older change delivered late (a redelivery after a failure) loses to the newer one
    deliver(rt, urgency_changed(urgency="一般", previous="紧急", at=submitted().submitted_at + timedelta(minutes=1)))
    env, _ = deliver(rt, warned())
    assert all(m.urgent for m in messages(rt, event_id=env.id))


def test_a_requesters_messages_about_an_urgent_case_keep_their_quiet_hours(rt):
    # Only the work-order templates named in urgent_orders bypass: the resident's 诉求已派单 can wait.
    deliver(rt, submitted(urgency="特急"))
    env, _ = deliver(rt, dispatched())
    assert not messages(rt, event_id=env.id, recipient_id="u-resident-1", channel="sms")[0].urgent


def test_an_urgent_orders_sms_is_not_held_by_the_daily_limit(rt, sender, servers):
    set_person(rt, WORKER, sms_daily_limit=1)
    for i in range(3):
        deliver(rt, submitted(case_id=f"c-{i}", urgency="特急"))
        deliver(rt, dispatched(case_id=f"c-{i}", requester=None))
    drain(sender, now=NIGHT)
    to_worker = [s for s in servers["sms"].sent if s["phone"] == "13800000005"]
    assert len(to_worker) == 3
    assert {m.status for m in messages(rt, recipient_id=WORKER, channel="sms")} == {"sent"}


def test_an_urgent_order_whose_channel_fails_for_now_goes_by_the_next_channel_at_once(rt, sender, servers):
    set_person(rt, WORKER, push_token="device-worker")
    servers["push"].status["device-worker"] = 503  # the push provider is down: a transient failure
    deliver(rt, submitted(urgency="特急"))
    env, _ = deliver(rt, dispatched())
    drain(sender, now=NIGHT)  # the same instant: no back-off waited out
    rows = {m.channel: m for m in messages(rt, event_id=env.id, recipient_id=WORKER)}
    assert rows["push"].status == "failed" and "next channel at once" in rows["push"].reason
    assert rows["push"].dead_at is None
    assert rows["sms"].status == "sent" and rows["sms"].fallback_from == rows["push"].id and rows["sms"].urgent
    assert [s["phone"] for s in servers["sms"].sent] == ["13800000005"]


def test_an_ordinary_order_whose_channel_fails_for_now_is_retried_on_it_later(rt, sender, servers):
    set_person(rt, WORKER, push_token="device-worker")
    servers["push"].status["device-worker"] = 503
    deliver(rt, submitted())
    env, _ = deliver(rt, dispatched())
    day = NIGHT.replace(hour=3)
    send_once(sender, day)
    rows = {m.channel: m for m in messages(rt, event_id=env.id, recipient_id=WORKER)}
    assert set(rows) == {"inbox", "push"}
    assert rows["push"].status == "queued" and rows["push"].next_attempt_at == day + timedelta(seconds=30)


def test_overdue_orders_stay_urgent_whatever_the_urgency(rt):
    env, _ = deliver(rt, overdue())  # no urgency known: the template itself is urgent, as before
    assert all(m.urgent for m in messages(rt, event_id=env.id))
