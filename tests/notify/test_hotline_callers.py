"""Issue 13: a hotline caller without an account who consented is told of her case by SMS: its dispatch,
and its result with the invitation to the callback evaluation. Her phone arrives sealed for notify in
intake.case.submitted (`caller_phone_sealed`), is kept sealed in the case's facts, never in clear in a
message, an event or a log line, and is forgotten when the case is closed. SMS go to the loopback Alibaba
Cloud SMS server, which checks every signature."""

import json
import logging
from datetime import timedelta

from sqlalchemy import select, text

from services.notify.models import CaseFacts, Message
from shared.events.intake import caller_phone_seal_context
from shared.events.routing import CaseClosed
from shared.keys import data_keys

from .conftest import DAYTIME, NIGHT, deliver, drain, events, messages, send_once
from .payloads import AT, dispatched, order_fields, resolved, submitted

PHONE = "13912340001"


def sealed_for(rt, case_id: str, phone: str = "+86" + PHONE, context_case: str | None = None) -> str:
    """The caller's phone as intake seals it for notify (the deployment's data keys, the case's context)."""
    return data_keys(rt.settings).seal(phone, caller_phone_seal_context(context_case or case_id))


def hotline_case(rt, case_id="c-h1", sealed: str | None = "default", **kw):
    """A case an operator filed for a caller without an account; `sealed` None: she gave no consent."""
    seal = sealed_for(rt, case_id) if sealed == "default" else sealed
    deliver(rt, submitted(case_id=case_id, reporter=None, channel="hotline", caller_phone_sealed=seal, **kw))


def texts_to(servers, phone=PHONE) -> list[dict]:
    return [s for s in servers["sms"].sent if s["phone"] == phone]


def test_a_consenting_caller_without_an_account_is_texted_the_dispatch_and_the_result_only(rt, sender, servers):
    hotline_case(rt)
    deliver(rt, dispatched(case_id="c-h1", requester=None))
    drain(sender)
    deliver(rt, resolved(case_id="c-h1", requester=None))
    drain(sender)
    got = texts_to(servers)
    assert [(s["template"], s["params"]) for s in got] == [("SMS_470100011", {"case_no": "2026-11-000001"}),
                                                           ("SMS_470100012", {"case_no": "2026-11-000001"})]
    mine = messages(rt, recipient_id="caller:c-h1")
    assert {(m.channel, m.template, m.status) for m in mine} == {("sms", "caller.dispatched", "sent"),
                                                                ("sms", "caller.resolved", "sent")}
    # No inbox for her, nothing of the number in the row once sent, and the events name her by the case.
    assert all(m.sealed is None and PHONE not in m.body for m in mine)
    assert all(PHONE not in json.dumps(e) for e in events(rt))


def test_her_phone_is_sealed_at_rest_and_in_no_log_line(rt, sender, servers, caplog):
    caplog.set_level(logging.DEBUG)
    hotline_case(rt)
    deliver(rt, dispatched(case_id="c-h1", requester=None))
    with rt.engine.connect() as conn:
        stored, index = conn.execute(text("SELECT caller_phone, caller_phone_index FROM case_facts")).one()
        queued = conn.execute(text("SELECT sealed, body, variables FROM messages WHERE recipient_id = 'caller:c-h1'"
                                   )).one()
    assert PHONE not in stored and index and PHONE not in index
    assert queued.sealed and PHONE not in queued.sealed + queued.body + queued.variables
    with rt.uow() as session:
        assert session.get(CaseFacts, "c-h1").caller_phone == PHONE  # opens for notify
    drain(sender)
    assert texts_to(servers) and not any(PHONE in r.getMessage() for r in caplog.records)


def test_without_consent_or_with_an_account_no_sms_goes_to_a_caller(rt, sender, servers):
    hotline_case(rt, "c-none", sealed=None)  # no consent: intake sends no phone
    deliver(rt, submitted(case_id="c-acct", reporter="u-resident-1", caller_phone_sealed=sealed_for(rt, "c-acct")))
    for case_id, requester in (("c-none", None), ("c-acct", "u-resident-1")):
        deliver(rt, dispatched(case_id=case_id, requester=requester))
    drain(sender)
    assert texts_to(servers) == []
    assert messages(rt, recipient_id="caller:c-none") == messages(rt, recipient_id="caller:c-acct") == []


def test_a_phone_sealed_for_another_case_does_not_open_and_the_case_is_still_handled(rt, sender, servers, caplog):
    hotline_case(rt, "c-h2", sealed=sealed_for(rt, "c-h2", context_case="c-other"))
    _, result = deliver(rt, dispatched(case_id="c-h2", requester=None))
    drain(sender)
    assert texts_to(servers) == [] and messages(rt, recipient_id="caller:c-h2") == []
    assert messages(rt, recipient_id="u-grid-worker-001001", channel="inbox")  # the order's handler still told
    assert "does not open" in caplog.text and PHONE not in caplog.text


def test_a_landline_is_not_kept(rt, sender):
    hotline_case(rt, "c-land", sealed=sealed_for(rt, "c-land", phone="+862885551234"))
    with rt.uow() as session:
        row = session.get(CaseFacts, "c-land")
        assert row.caller_phone is None and row.caller_phone_index is None


def test_a_praise_is_not_texted_as_dispatched_and_an_assisting_units_result_is_not_the_cases(rt, sender, servers):
    hotline_case(rt, "c-praise", appeal_type="表扬")
    deliver(rt, dispatched(case_id="c-praise", requester=None, kind="praise"))
    hotline_case(rt, "c-h3")
    deliver(rt, dispatched(case_id="c-h3", requester=None))
    deliver(rt, resolved(case_id="c-h3", requester=None, work_order_id="wo-assist"))
    drain(sender)
    assert [m.template for m in messages(rt, channel="sms") if m.recipient_id.startswith("caller:")] == [
        "caller.dispatched"]


def test_quiet_hours_hold_her_sms_until_morning(rt, sender, servers):
    hotline_case(rt)
    deliver(rt, dispatched(case_id="c-h1", requester=None))
    send_once(sender, NIGHT)
    [m] = messages(rt, recipient_id="caller:c-h1")
    assert (m.status, m.reason) == ("queued", "quiet_hours") and texts_to(servers) == []
    drain(sender, now=NIGHT + timedelta(hours=9))
    assert len(texts_to(servers)) == 1


def test_a_number_gets_at_most_ten_texts_of_one_template_a_day_across_her_cases(rt, sender, servers):
    for i in range(11):  # the same caller rang about eleven matters
        hotline_case(rt, f"c-n{i}")
        deliver(rt, dispatched(case_id=f"c-n{i}", requester=None))
    drain(sender)
    assert len(texts_to(servers)) == 10
    limited = [m for m in messages(rt, channel="sms", status="suppressed") if m.recipient_id.startswith("caller:")]
    assert [m.reason for m in limited] == ["limit: sms per number and template per day"]
    assert limited[0].dead_at is not None  # she has no other channel: recorded, not sent


def test_her_phone_is_forgotten_at_closing_and_an_sms_still_queued_goes(rt, sender, servers):
    hotline_case(rt)
    deliver(rt, dispatched(case_id="c-h1", requester=None))
    deliver(rt, resolved(case_id="c-h1", requester=None))
    deliver(rt, CaseClosed(**order_fields("c-h1", seq=6, at=AT + timedelta(days=1)), outcome="解决到位"))
    with rt.uow() as session:
        row = session.get(CaseFacts, "c-h1")
        assert row.caller_phone is None and row.caller_phone_index is None
    drain(sender)
    assert [s["template"] for s in texts_to(servers)] == ["SMS_470100011", "SMS_470100012"]
    deliver(rt, resolved(case_id="c-h1", requester=None, at=AT + timedelta(days=3)).model_copy(update={"seq": 9}))
    assert len(messages(rt, recipient_id="caller:c-h1")) == 2  # nobody left to text


def test_a_batch_report_naming_only_her_number_marks_her_sms_delivered(rt, sender, servers, client):
    hotline_case(rt, "c-b1")
    hotline_case(rt, "c-b2", sealed=sealed_for(rt, "c-b2", phone="+8613912340002"))
    for case_id in ("c-b1", "c-b2"):
        deliver(rt, dispatched(case_id=case_id, requester=None))
    send_once(sender, DAYTIME)
    [first] = [s for s in texts_to(servers) if s["template"] == "SMS_470100011"]
    assert first["out_id"] is None  # one SendBatchSms call: the report names the BizId and the number
    report = [{"phone_number": PHONE, "biz_id": first["biz_id"], "success": True, "err_code": "DELIVERED"}]
    r = client.post("/notify/v1/callbacks/sms/aliyun", params={"token": "sms-callback-token"}, json=report)
    assert r.status_code == 200
    with rt.uow() as session:
        states = dict(session.execute(select(Message.recipient_id, Message.status).where(
            Message.recipient_id.in_(["caller:c-b1", "caller:c-b2"]))).all())
    assert states == {"caller:c-b1": "delivered", "caller:c-b2": "sent"}
