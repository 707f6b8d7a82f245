"""Which request a notification answers: every message notify records keeps the correlation id of the
event that caused it (the resident's X-Request-ID), its fallback too, and the events about its sending
carry it, whichever sending round records them."""

from shared.events import envelope_for

from .conftest import DAYTIME, auth, deliver, drain, events, messages, send_once, set_person
from .payloads import submitted


def test_each_message_and_its_sent_event_carry_the_request_that_caused_it(rt, sender, client):
    deliver(rt, None, envelope_for(submitted(case_id="c-1", reporter="u-resident-1"), correlation_id="req-a"))
    deliver(rt, None, envelope_for(submitted(case_id="c-2", reporter="u-resident-2"), correlation_id="req-b"))
    by_case = {(m.subject_id, m.channel): m.correlation_id for m in messages(rt)}
    assert by_case == {("c-1", "inbox"): "req-a", ("c-1", "sms"): "req-a",
                       ("c-2", "inbox"): "req-b", ("c-2", "sms"): "req-b"}
    assert send_once(sender, DAYTIME) == 2  # one sending round, two requests
    sent = {e["data"]["event_id"]: e["correlation_id"] for e in events(rt, "notify.message.sent")}
    caused = {m.event_id: m.correlation_id for m in messages(rt, channel="sms")}
    assert sent == caused and set(sent.values()) == {"req-a", "req-b"}
    # The admins' delivery log says which request each message answers.
    [state] = [m for m in client.get("/notify/v1/messages", headers=auth(rt, "u-admin-1", "admin"),
                                     params={"subject_id": "c-1"}).json() if m["channel"] == "sms"]
    assert state["correlation_id"] == "req-a"


def test_a_fallback_message_and_the_failure_before_it_keep_the_requests_correlation_id(rt, sender, servers):
    set_person(rt, "u-resident-1", email="resident1@example.com")
    servers["sms"].codes["13800000001"] = "isv.MOBILE_NUMBER_ILLEGAL"
    deliver(rt, None, envelope_for(submitted(), correlation_id="req-c"))
    drain(sender)
    sms, email = (messages(rt, channel=c)[0] for c in ("sms", "email"))
    assert email.fallback_from == sms.id and (sms.correlation_id, email.correlation_id) == ("req-c", "req-c")
    settled = events(rt, "notify.message.failed") + events(rt, "notify.message.sent")
    assert settled and {e["correlation_id"] for e in settled} == {"req-c"}
