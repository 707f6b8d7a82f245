"""Issue 12: mediation's events as intake tells them. `mediation.agreement.signed` now means the agreement took
effect (the parties and the mediator signed, the committee sealed: 人民调解法 第二十九条); performance is a later
fact (`mediation.agreement.performed`, 第三十一条), a line the requester reads without a status of its own. And
every event type mediation (or routing) publishes to intake's queue is handled, or deliberately ignored."""

from services.intake import handlers as intake_handlers
from services.intake.status import label
from shared.events import mediation as mediation_events
from shared.events import registered
from shared.events import routing as routing_events
from shared.events.mediation import (
    AgreementPerformed,
    AgreementSigned,
    DisputeAccepted,
    DisputeApplied,
    DisputeRefused,
    DisputeSucceeded,
)
from shared.messaging.topology import TOPOLOGY

from .conftest import at


def _referred(intake) -> tuple[dict, dict]:
    case = intake.submit(category="dispute.neighbour", description="楼上邻居每晚装修到十一点，多次沟通无果。")
    return case, {"dispute_id": "d-1", "dispute_no": "TJ-2099-0001", "case_id": case["id"]}


def test_an_agreement_in_force_and_its_performance_are_told_as_they_are(intake):
    case, common = _referred(intake)
    intake.deliver(DisputeApplied(**common, seq=1, at=at(1), dispute_type="neighbour", source="intake"))
    intake.deliver(DisputeAccepted(**common, seq=2, at=at(2), committee_id="c-1", deadline=at(59)))
    intake.deliver(AgreementSigned(**common, seq=3, at=at(3), agreement_id="a-1", court_confirmation_deadline=at(40),
                                   effective_at=at(3)))
    view = intake.get(case["id"])
    assert view["status"] == "mediation_agreed" and view["status_label"] == "调解协议已生效"
    assert view["timeline"][-1]["text"] == "调解协议已生效（各方当事人、人民调解员签名并加盖调解委员会印章）"
    intake.deliver(DisputeSucceeded(**common, seq=4, at=at(4), agreement_id="a-1", effective_at=at(3)))
    view = intake.get(case["id"])
    assert view["status"] == "mediation_succeeded"
    assert view["timeline"][-1]["text"] == "调解成功，调解协议已生效；履行情况由调解委员会回访"
    assert "履行" not in label("mediation_succeeded") and "已履行" not in view["timeline"][-1]["text"]
    # Performance, found at follow-up: a public line, the status stays.
    assert intake.deliver(AgreementPerformed(**common, seq=5, at=at(5), agreement_id="a-1", followup_ids=[1])) == "ack"
    view = intake.get(case["id"])
    assert view["status"] == "mediation_succeeded"
    last = view["timeline"][-1]
    assert (last["kind"], last["public"]) == ("mediation_performed", True)
    assert last["text"] == "经回访，调解协议约定的义务已履行完毕"
    # A repeated or stale one changes nothing.
    intake.deliver(AgreementPerformed(**common, seq=5, at=at(5), agreement_id="a-1"))
    assert len(intake.get(case["id"])["timeline"]) == len(view["timeline"])


def test_a_refusal_names_the_routes_of_the_law(intake):
    case, common = _referred(intake)
    intake.deliver(DisputeRefused(**common, seq=1, at=at(1), refused_by_party_id="p-2",
                                  routes=["仲裁", "行政", "司法"]))
    view = intake.get(case["id"])
    assert view["status"] == "mediation_refused"
    assert view["timeline"][-1]["text"] == ("一方当事人明确拒绝调解，调解不再进行；"
                                            "可以依法通过仲裁、行政、司法等途径维护自己的权利")


def _published_to_intake(module) -> set[str]:
    """Every event type the payload module declares (shared/events/mediation.py, routing.py) that reaches
    intake's queue, as its routing key. (Identity's `<service>.api_key.used`, which a service's own key use
    publishes under its name, is not the service's event about a case.)"""
    keys = {f"{t}.v{v}" for (t, v), model in registered().items() if model.__module__ == module.__name__}
    return {k for k in keys if any(q.service == "intake" for q in TOPOLOGY.route(k))}


def test_every_mediation_and_routing_event_reaching_intake_is_handled_or_deliberately_ignored(intake):
    table = intake_handlers.handlers(intake.rt)
    for module, ignored in ((mediation_events, intake_handlers.MEDIATION_IGNORED),
                            (routing_events, intake_handlers.ROUTING_IGNORED)):
        keys = _published_to_intake(module)
        assert keys, module.__name__
        ignored_keys = {f"{t}.v1" for t in ignored}
        assert not ignored_keys & set(table), "an ignored event must not have a handler"
        unhandled = sorted(k for k in keys if k not in table and k not in ignored_keys)
        assert unhandled == [], f"events acked without a word on the case: {unhandled}"
    assert "mediation.agreement.performed.v1" in table and "routing.case.answered.v1" in table
    assert all(why for why in intake_handlers.MEDIATION_IGNORED.values())  # each says why
