"""Who hears about each event, on which channel; exactly once under redelivery."""

from services.notify.handlers import handlers

from .conftest import deliver, events, messages, set_person
from .payloads import assigned, dispatched, escalated, overdue, submitted


def test_every_intake_routing_and_mediation_event_has_a_handler(rt):
    keys = set(handlers(rt))
    assert {"intake.case.submitted.v1", "routing.case.overdue.v1", "mediation.case.assigned.v1",
            "mediation.followup.due.v1"} <= keys
    assert not any(k.startswith("notify.") for k in keys)


def test_the_resident_gets_an_inbox_message_and_one_queued_message_on_their_first_usable_channel(rt):
    deliver(rt, submitted())
    mine = messages(rt, recipient_id="u-resident-1")
    # residents read WeChat first, but this one has no openid: SMS (the seeded phone) is next
    assert [(m.channel, m.status) for m in mine] == [("inbox", "delivered"), ("sms", "queued")]
    assert mine[0].title == "诉求已受理" and "2026-11-000001" in mine[0].body
    assert mine[1].category == "case_progress" and not mine[1].urgent


def test_a_redelivered_event_records_nothing_twice(rt):
    env, first = deliver(rt, dispatched())
    # the broker delivers the same message again (same id): the inbox claim makes it a no-op
    _, again = deliver(rt, dispatched(), envelope=env)
    assert again.reason == "duplicate delivery"
    # and even if the handler ran twice for that event, (event, recipient, channel) is unique
    from shared.messaging.dispatcher import HandlerContext
    with rt.uow() as session:
        handlers(rt)["routing.case.dispatched.v1"](HandlerContext(session, env, rt.outbox), dispatched())
    rows = messages(rt, event_id=env.id)
    assert sorted((m.recipient_id, m.channel) for m in rows) == [
        ("u-grid-worker-001001", "inbox"), ("u-grid-worker-001001", "sms"),
        ("u-resident-1", "inbox"), ("u-resident-1", "sms")]


def test_a_resident_joining_a_case_is_told_and_the_event_does_not_fail(rt):
    from shared.events.intake import CaseJoined

    from .payloads import AT
    env, _ = deliver(rt, CaseJoined(case_id="c-1", user_id="u-resident-2", interest_count=2, at=AT))
    assert [(m.recipient_id, m.title) for m in messages(rt, event_id=env.id, channel="inbox")] == [
        ("u-resident-2", "已关注该诉求")]


def test_every_rule_finds_its_template_variables_in_the_event():
    # A variable the payload lacks makes every such event fail in the consumer.
    from services.notify.config import get
    from shared.events import registered
    config = get()
    payloads = {etype: cls for (etype, _), cls in registered().items()}
    for etype, rule_list in config.rules.events.items():
        fields = set(payloads[etype].model_fields)
        for rule in rule_list:
            missing = config.catalogue[rule.template].variables - fields - set(rule.vars)
            assert not missing, (etype, rule.template, missing)


def test_dispatch_tells_the_requester_and_the_assignee_with_their_own_templates(rt):
    set_person(rt, "u-grid-worker-001001", push_token="device-token-1")
    env, _ = deliver(rt, dispatched())
    by_person = {(m.recipient_id, m.channel): m for m in messages(rt, event_id=env.id)}
    assert by_person[("u-resident-1", "inbox")].title == "诉求已派单"
    assert by_person[("u-grid-worker-001001", "inbox")].title == "新工单待签收"
    assert by_person[("u-grid-worker-001001", "push")].status == "queued"  # staff read push first


def test_an_assist_dispatch_does_not_tell_the_resident_again(rt):
    env, _ = deliver(rt, dispatched(role="assist"))
    assert {m.recipient_id for m in messages(rt, event_id=env.id)} == {"u-grid-worker-001001"}


def test_overdue_tells_the_handler_and_the_supervisor_above_the_unit_urgently(rt):
    env, _ = deliver(rt, overdue())
    rows = [m for m in messages(rt, event_id=env.id) if m.channel == "inbox"]
    assert {(m.recipient_id, m.template) for m in rows} == {
        ("u-grid-worker-001001", "workorder.overdue"),
        ("u-community-staff-001", "workorder.overdue.supervisor")}  # the grid's community
    assert all(m.urgent for m in rows)


def test_a_whistle_reaches_the_staff_of_every_department_called(rt):
    env, _ = deliver(rt, escalated())
    assert {m.recipient_id for m in messages(rt, event_id=env.id, channel="inbox")} == {
        "u-department-handler-900001", "u-department-handler-900005"}


def test_mediation_parties_and_mediators_hear_about_an_assignment(rt):
    env, _ = deliver(rt, assigned())
    got = {(m.recipient_id, m.template) for m in messages(rt, event_id=env.id, channel="inbox")}
    assert got == {("u-resident-2", "dispute.assigned"), ("u-resident-3", "dispute.assigned"),
                   ("u-mediator-1", "dispute.assigned.mediator")}


def test_someone_notify_does_not_know_still_gets_the_inbox_message(rt):
    env, _ = deliver(rt, submitted(reporter="u-new-resident"))
    assert [(m.channel, m.status) for m in messages(rt, event_id=env.id)] == [("inbox", "delivered")]


def test_an_opted_out_category_is_suppressed_on_external_channels_but_kept_in_the_inbox(rt):
    set_person(rt, "u-resident-1", opt_outs=["case_progress"])
    env, _ = deliver(rt, submitted())
    assert [(m.channel, m.status, m.reason) for m in messages(rt, event_id=env.id)] == [
        ("inbox", "delivered", None), ("sms", "suppressed", "opted_out")]
    assert [e["data"]["reason"] for e in events(rt, "notify.message.suppressed")] == ["opted_out"]


def test_personal_data_never_reaches_the_message_variables(rt):
    env, _ = deliver(rt, dispatched())
    for m in messages(rt, event_id=env.id):
        assert "13800000001" not in m.variables and "13800000001" not in m.body
