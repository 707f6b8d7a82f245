"""Intake's consumer on its hot path (issue 15): a batch of routing's events reads its cases, the work orders
seen and the units holding them in one statement each, writes them together, and ends as the same messages
handled one by one would."""

from shared.events import envelope_for
from shared.events.routing import CaseSigned

from ..statements import Statements
from .conftest import dispatched


def order_events(case: dict) -> list[bytes]:
    """The case dispatched and then signed for: the second finds what the first added in the same batch."""
    wo = case["id"]  # an id of its own for each order
    return [envelope_for(dispatched(case, 1, wo)).to_bytes(),
            envelope_for(CaseSigned(**dispatched(case, 2, wo).model_dump(include={
                "case_id", "case_no", "work_order_id", "seq", "unit_id", "unit_name", "at"}),
                actor_id="u-grid-worker-001001")).to_bytes()]


def test_a_batch_of_routing_events_is_read_in_statements_that_do_not_grow_with_it(pg_intake):
    cases = [pg_intake.submit(description=f"小区东门垃圾桶三天没有清运（{i}）") for i in range(12)]
    seen = Statements(pg_intake.rt.engine)
    reads = {}
    for group in (cases[:4], cases[4:]):
        seen.reset()
        results = pg_intake.dispatcher.handle_batch([b for case in group for b in order_events(case)])
        assert [(r.outcome.value, r.reason) for r in results] == [("ack", "")] * 2 * len(group)
        # Handled together: no message fell back to its own savepoint, one COMMIT for the batch.
        assert seen.starting("SAVEPOINT") == [] and seen.commits == 1
        reads[len(group)] = len(seen.starting("SELECT"))
    assert reads[4] == reads[8]  # the cases, orders seen and units: one read each, however many
    for case in cases:
        assert pg_intake.get(case["id"], role="admin")["status"] == "signed"


def test_a_batch_ends_as_its_messages_handled_one_by_one(pg_intake):
    together, alone = pg_intake.submit(), pg_intake.submit(description="楼道灯坏了好几天了，晚上很黑。")
    pg_intake.dispatcher.handle_batch(order_events(together))
    for body in order_events(alone):
        assert pg_intake.dispatcher.handle(body).outcome.value == "ack"

    def outcome(case: dict) -> tuple:
        view = pg_intake.get(case["id"], role="admin")
        return view["status"], [(e["kind"], e["text"]) for e in view["timeline"][1:]]  # after its own number

    assert outcome(together) == outcome(alone)
