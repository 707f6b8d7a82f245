"""Notify's consumer on its hot path (issue 15): a batch of case events reads the cases' facts, followers and the
people they name in one statement each, writes the inbox messages with the batch's other rows, and tells
everyone what the same events handled one by one would."""

from services.notify.service import SPEC
from shared.events import envelope_for

from ..statements import Statements
from .conftest import messages
from .payloads import dispatched, submitted


def case_events(case_id: str) -> list[bytes]:
    return [envelope_for(submitted(case_id)).to_bytes(), envelope_for(dispatched(case_id)).to_bytes()]


def told(rt, case_id: str) -> list[tuple]:
    return [(m.recipient_id, m.template, m.channel, m.status) for m in messages(rt, subject_id=case_id)]


def test_a_batch_of_case_events_is_read_in_statements_that_do_not_grow_with_it(rt):
    dispatcher = SPEC.dispatcher(rt)
    dispatcher.handle_batch(case_events("c-warm"))  # the webhook subscriptions, read once a while
    seen = Statements(rt.engine)
    reads = {}
    for n in (3, 9):
        seen.reset()
        results = dispatcher.handle_batch([b for i in range(n) for b in case_events(f"c-{n}-{i}")])
        assert [(r.outcome.value, r.reason) for r in results] == [("ack", "")] * 2 * n
        assert seen.starting("SAVEPOINT") == [] and seen.commits == 1
        reads[n] = len(seen.starting("SELECT"))
    assert reads[3] == reads[9]


def test_a_batch_tells_everyone_what_one_by_one_would(rt):
    dispatcher = SPEC.dispatcher(rt)
    dispatcher.handle_batch(case_events("c-together") + case_events("c-other"))
    for body in case_events("c-alone"):
        assert dispatcher.handle(body).outcome.value == "ack"
    assert told(rt, "c-together") == told(rt, "c-alone") == told(rt, "c-other")
    assert {t[1] for t in told(rt, "c-alone")} >= {"case.accepted", "workorder.new"}
