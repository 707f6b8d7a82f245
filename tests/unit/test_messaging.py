"""Dispatcher (inbox), outbox, relay and the in-process bus, on SQLite files in tmp_path."""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, update
from sqlalchemy.orm import sessionmaker

from shared.config import get_settings
from shared.db import make_engine, session_factory, unit_of_work, utcnow
from shared.events import Envelope, Subject, decode, envelope_for
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched
from shared.messaging.dispatcher import NOT_CONCERNED, Dispatcher, HandlerContext, Outcome, only
from shared.messaging.local_bus import LocalBus, deliveries
from shared.messaging.outbox import Outbox, signal_relay_after_commit
from shared.messaging.publisher import OutgoingMessage, PublishError
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables
from shared.messaging.topology import QueueSpec, Topology
from shared.messaging.wakeup import LocalWakeup
from shared.runtime import ServiceRuntime, build_runtime

from ..statements import Statements

metadata = MetaData()
outbox_table, inbox_table = messaging_tables(metadata)
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False),
    Column("case_id", String(36), nullable=False),
)

SUBMITTED = "intake.case.submitted.v1"
DISPATCHED = "routing.case.dispatched.v1"

QUEUE_A = QueueSpec("a.events", "a", ("intake.case.*.v1.#",), retry_delays_ms=(50, 100), delivery_limit=5)
QUEUE_B = QueueSpec("b.events", "b", ("intake.#", "routing.case.*.v1"), retry_delays_ms=(50, 100))
QUEUE_C = QueueSpec("c.events", "c", ("mediation.#",), retry_delays_ms=(50, 100))
SMALL = Topology(exchange="t.events", dlx="t.dlx", queues=(QUEUE_A, QUEUE_B, QUEUE_C))


# --------------------------------------------------------------------------- helpers


def submitted(case_no: str = "202405-000001", case_id: str | None = None) -> CaseSubmitted:
    return CaseSubmitted(case_id=case_id or str(uuid.uuid4()), case_no=case_no, category="环境卫生",
                         channel="app", submitted_at=datetime(2024, 5, 6, tzinfo=UTC))


def dispatched(case_id: str = "c-1") -> CaseDispatched:
    return CaseDispatched(case_id=case_id, case_no="202405-000001", work_order_id="wo-1", seq=1,
                          unit_id="u-1", unit_code="510107001001001", unit_name="第一网格", unit_level="grid",
                          rule="属地派单", at=datetime(2024, 5, 6, tzinfo=UTC))


def body_of(payload, **kwargs) -> bytes:
    return envelope_for(payload, **kwargs).to_bytes()


def message_of(payload, **kwargs) -> OutgoingMessage:
    env = envelope_for(payload, **kwargs)
    return OutgoingMessage(env.id, env.routing_key, env.to_bytes())


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def record_effect(ctx: HandlerContext, event) -> None:
    ctx.session.execute(insert(effects).values(message_id=ctx.envelope.id, case_id=event.case_id))


def wait_until(predicate, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def rt(tmp_path) -> ServiceRuntime:
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    runtime = build_runtime("test", settings, outbox_table, inbox_table, url=f"sqlite:///{tmp_path / 'svc.sqlite'}")
    metadata.create_all(runtime.engine)
    yield runtime
    runtime.dispose()


@pytest.fixture
def bus(tmp_path) -> LocalBus:
    b = LocalBus(tmp_path / "bus" / "bus.sqlite", SMALL)
    yield b
    b.close()


def make_dispatcher(rt: ServiceRuntime, handlers: dict) -> Dispatcher:
    return Dispatcher("test", rt.sessions, inbox_table, rt.outbox, handlers)


def outbox_rows(rt: ServiceRuntime) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(outbox_table).order_by(outbox_table.c.id)).all()


# --------------------------------------------------------------------------- dispatcher


def test_handled_message_commits_its_effect_and_an_inbox_row(rt):
    dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
    payload = submitted()
    env = envelope_for(payload)

    result = dispatcher.handle(env.to_bytes())

    assert result.outcome is Outcome.ACK
    with rt.engine.connect() as conn:
        assert conn.execute(select(effects.c.message_id, effects.c.case_id)).all() == [
            (env.id, payload.case_id)
        ]
        inbox = conn.execute(select(inbox_table)).all()
    assert len(inbox) == 1
    assert inbox[0].message_id == env.id
    assert inbox[0].handler == f"test:{SUBMITTED}"
    assert inbox[0].processed_at.tzinfo is not None


def test_the_same_message_again_is_acked_as_duplicate_without_a_second_effect(rt):
    calls = []

    def handler(ctx, event):
        calls.append(ctx.envelope.id)
        record_effect(ctx, event)

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    body = body_of(submitted())

    first = dispatcher.handle(body)
    second = dispatcher.handle(body)
    third, fourth = dispatcher.handle_batch([body, body])

    assert first.outcome is Outcome.ACK and first.reason == ""
    for r in (second, third, fourth):
        assert r.outcome is Outcome.ACK
        assert "duplicate" in r.reason
    assert len(calls) == 1
    assert count(rt.engine, effects) == 1
    assert count(rt.engine, inbox_table) == 1


def test_the_same_message_twice_in_one_batch_is_handled_once(rt):
    dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
    body = body_of(submitted())
    first, second = dispatcher.handle_batch([body, body])
    assert first.outcome is Outcome.ACK and first.reason == ""
    assert second.outcome is Outcome.ACK and "duplicate" in second.reason
    assert count(rt.engine, effects) == 1


@pytest.mark.parametrize("bad_first", [False, True], ids=["good-then-bad", "bad-then-good"])
def test_a_failing_handler_is_retried_and_rolled_back_while_the_rest_of_the_batch_commits(rt, bad_first):
    broken = {"yes": True}

    def handler(ctx, event):
        record_effect(ctx, event)  # a partial effect, before the failure
        ctx.emit(dispatched(event.case_id))
        if event.case_no == "BAD" and broken["yes"]:
            raise RuntimeError("the database of the other system is down")

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    good, bad = submitted("GOOD", "case-good"), submitted("BAD", "case-bad")
    good_env, bad_env = envelope_for(good), envelope_for(bad)
    bodies = [bad_env.to_bytes(), good_env.to_bytes()] if bad_first else [good_env.to_bytes(), bad_env.to_bytes()]

    results = dispatcher.handle_batch(bodies)
    by_case = dict(zip(["BAD", "GOOD"] if bad_first else ["GOOD", "BAD"], results, strict=True))

    assert by_case["GOOD"].outcome is Outcome.ACK
    assert by_case["BAD"].outcome is Outcome.RETRY
    assert "RuntimeError" in by_case["BAD"].reason and "down" in by_case["BAD"].reason
    with rt.engine.connect() as conn:
        assert conn.execute(select(effects.c.case_id)).scalars().all() == ["case-good"]
        assert conn.execute(select(inbox_table.c.message_id)).scalars().all() == [good_env.id]
    # The failed handler's outbox row was rolled back too; the good one's stayed.
    assert [decode(r.body.encode())[1].case_id for r in outbox_rows(rt)] == ["case-good"]

    # Its inbox claim was rolled back with it, so a later retry is not taken for a duplicate.
    broken["yes"] = False
    retry = dispatcher.handle(bad_env.to_bytes())
    assert retry.outcome is Outcome.ACK and retry.reason == ""
    assert count(rt.engine, effects) == 2


def test_an_unknown_event_type_is_dead(rt):
    calls = []
    dispatcher = make_dispatcher(rt, {SUBMITTED: lambda ctx, e: calls.append(e)})
    env = Envelope(type="intake.case.vanished", version=1, source="intake",
                   subject=Subject(kind="case", id="c"), data={})
    newer = Envelope(type="intake.case.submitted", version=9, source="intake",
                     subject=Subject(kind="case", id="c"), data={})

    results = dispatcher.handle_batch([env.to_bytes(), newer.to_bytes(), b"{not json"])

    assert [r.outcome for r in results] == [Outcome.DEAD] * 3
    assert "unknown event" in results[0].reason
    assert "not an event envelope" in results[2].reason
    assert calls == []
    assert count(rt.engine, inbox_table) == 0


def test_data_that_does_not_fit_the_payload_is_dead(rt):
    dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
    env = Envelope(type="intake.case.submitted", version=1, source="intake",
                   subject=Subject(kind="case", id="c"), data={"case_id": "c"})
    result = dispatcher.handle(env.to_bytes())
    assert result.outcome is Outcome.DEAD
    assert "bad data" in result.reason
    assert count(rt.engine, effects) == 0


def test_a_known_type_without_a_handler_here_is_acked_without_an_inbox_row(rt):
    calls = []
    dispatcher = make_dispatcher(rt, {SUBMITTED: lambda ctx, e: calls.append(e)})

    result = dispatcher.handle(body_of(dispatched()))

    assert result.outcome is Outcome.ACK
    assert result.reason == "not handled by this service"
    assert calls == []
    assert count(rt.engine, inbox_table) == 0


def test_an_event_its_handler_does_not_want_is_acked_without_a_transaction(rt):
    calls = []
    wanted = only(lambda e: e.case_no.endswith("1"), lambda ctx, e: calls.append(e.case_no))
    dispatcher = make_dispatcher(rt, {SUBMITTED: wanted})
    seen = Statements(rt.engine)

    results = dispatcher.handle_batch([body_of(submitted("202405-000002")), body_of(submitted("202405-000003"))])

    assert [(r.outcome, r.reason) for r in results] == [(Outcome.ACK, NOT_CONCERNED)] * 2
    assert seen.sql == [] and seen.commits == 0 and calls == []
    assert dispatcher.handle(body_of(submitted("202405-000001"))).reason == ""
    assert calls == ["202405-000001"] and count(rt.engine, inbox_table) == 1


def test_emit_from_a_handler_writes_an_outbox_row_caused_by_the_incoming_message(rt):
    def handler(ctx, event):
        ctx.emit(dispatched(event.case_id))

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    incoming = envelope_for(submitted(case_id="case-42"), correlation_id="req-abc", causation_id="older")
    rt.relay_signal.clear()

    assert dispatcher.handle(incoming.to_bytes()).outcome is Outcome.ACK

    rows = outbox_rows(rt)
    assert len(rows) == 1
    env, payload = decode(rows[0].body.encode())
    assert rows[0].message_id == env.id != incoming.id
    assert rows[0].routing_key == DISPATCHED
    assert rows[0].attempts == 0 and rows[0].next_attempt_at is None
    assert env.causation_id == incoming.id
    assert env.correlation_id == "req-abc"
    assert env.source == "routing"
    assert payload.case_id == "case-42"
    # The runtime's sessions wake the relay once the handler's transaction committed.
    assert rt.relay_signal.is_set()


# --------------------------------------------------------------------------- outbox and relay


def make_relay(rt: ServiceRuntime, publisher, **kwargs) -> OutboxRelay:
    return OutboxRelay(rt.engine, outbox_table, publisher, LocalWakeup(rt.relay_signal), **kwargs)


def emit_committed(rt: ServiceRuntime, *payloads) -> list[Envelope]:
    with rt.uow() as session:
        return [rt.outbox.emit(session, p) for p in payloads]


def test_rows_of_a_rolled_back_transaction_never_reach_the_relay(rt, bus):
    rt.relay_signal.clear()
    with pytest.raises(RuntimeError), rt.uow() as session:
        rt.outbox.emit(session, submitted())
        session.flush()
        raise RuntimeError("the request failed after emitting")

    assert outbox_rows(rt) == []
    assert not rt.relay_signal.is_set()
    relay = make_relay(rt, bus)
    assert relay.publish_pending() == 0
    assert relay.published == 0
    assert bus.depth("a.events") == 0


def test_publish_pending_moves_rows_to_the_bus_and_deletes_them(rt, bus):
    envs = emit_committed(rt, submitted("1"), submitted("2"), dispatched("c-3"))
    relay = make_relay(rt, bus)

    assert relay.publish_pending() == 3

    assert outbox_rows(rt) == []
    assert relay.published == 3
    assert bus.depth("a.events") == 2  # the two submitted
    assert bus.depth("b.events") == 3  # intake.# and routing.case.*.v1
    with bus.engine.connect() as conn:
        stored = set(conn.execute(select(deliveries.c.message_id).where(deliveries.c.queue == "b.events"))
                     .scalars())
    assert stored == {e.id for e in envs}
    assert relay.publish_pending() == 0


def test_publish_pending_respects_the_batch_size(rt, bus):
    emit_committed(rt, *(submitted(str(i)) for i in range(5)))
    relay = make_relay(rt, bus, batch=2)
    assert [relay.publish_pending() for _ in range(4)] == [2, 2, 1, 0]
    assert bus.depth("a.events") == 5


class FailingPublisher:
    def __init__(self):
        self.calls = 0

    def publish_batch(self, messages):
        self.calls += 1
        raise PublishError("broker unreachable")

    def close(self):
        pass


class FlakyPublisher:
    """Fails the first `failures` batches, then hands over to a real bus."""

    def __init__(self, bus: LocalBus, failures: int):
        self.bus, self.failures, self.calls = bus, failures, 0

    def publish_batch(self, messages):
        self.calls += 1
        if self.calls <= self.failures:
            raise PublishError("broker unreachable")
        return self.bus.publish_batch(messages)

    def close(self):
        pass


def test_a_publisher_that_raises_keeps_every_row(rt):
    envs = emit_committed(rt, submitted("1"), submitted("2"))
    publisher = FailingPublisher()
    relay = make_relay(rt, publisher)

    with pytest.raises(PublishError):
        relay.publish_pending()

    rows = outbox_rows(rt)
    assert [r.message_id for r in rows] == [e.id for e in envs]
    assert all(r.attempts == 0 and r.next_attempt_at is None and r.last_error is None for r in rows)
    assert relay.published == 0
    assert publisher.calls == 1


def test_the_relay_loop_survives_a_publisher_that_raises(rt, bus):
    env = emit_committed(rt, submitted())[0]
    publisher = FlakyPublisher(bus, failures=1)
    relay = make_relay(rt, publisher, safety_poll=30.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: bus.depth("a.events") == 1, timeout=5.0)
        assert thread.is_alive()
        assert publisher.calls >= 2
        assert outbox_rows(rt) == []
        with bus.engine.connect() as conn:
            assert conn.execute(select(deliveries.c.message_id).where(deliveries.c.queue == "a.events")
                                ).scalar_one() == env.id
    finally:
        stop.set()
        rt.relay_signal.set()
        thread.join(5)
    assert not thread.is_alive()


def test_a_message_the_publisher_rejects_is_kept_for_a_later_attempt(rt, tmp_path):
    # Only intake events are bound: routing.case.dispatched is unroutable on this bus.
    narrow = LocalBus(tmp_path / "narrow.sqlite", Topology(queues=(QUEUE_A,)))
    try:
        ok1, rejected, ok2 = emit_committed(rt, submitted("1"), dispatched("c-2"), submitted("3"))
        relay = make_relay(rt, narrow)
        before = utcnow()

        assert relay.publish_pending() == 3

        rows = outbox_rows(rt)
        assert [r.message_id for r in rows] == [rejected.id]
        row = rows[0]
        assert row.attempts == 1
        assert row.next_attempt_at > before
        assert row.next_attempt_at > utcnow()
        assert "unroutable" in row.last_error
        assert relay.published == 2
        assert narrow.depth("a.events") == 2
        # Not due yet: the next pass does not look at it.
        assert relay.publish_pending() == 0
        assert outbox_rows(rt)[0].attempts == 1

        # Once due it is tried again, and backs off further when it fails again.
        with rt.engine.begin() as conn:
            conn.execute(update(outbox_table).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        assert relay.publish_pending() == 1
        row = outbox_rows(rt)[0]
        assert row.attempts == 2
        assert row.next_attempt_at - utcnow() > timedelta(seconds=1)
    finally:
        narrow.close()


def test_the_relay_signal_is_set_after_commit_and_not_after_rollback(rt):
    rt.relay_signal.clear()
    with rt.uow() as session:
        rt.outbox.emit(session, submitted())
        session.flush()
        assert not rt.relay_signal.is_set(), "signalled before the row was committed"
    assert rt.relay_signal.is_set()

    rt.relay_signal.clear()
    with pytest.raises(LookupError), rt.uow() as session:
        rt.outbox.emit(session, submitted())
        session.flush()
        raise LookupError("the request failed after emitting")
    assert not rt.relay_signal.is_set()

    # A transaction that emits nothing does not wake the relay either.
    with rt.uow() as session:
        session.execute(insert(effects).values(message_id="m", case_id="c"))
    assert not rt.relay_signal.is_set()

    # The rolled-back signal did not linger in a later transaction of another session.
    with rt.uow() as session:
        session.execute(insert(effects).values(message_id="m2", case_id="c"))
    assert not rt.relay_signal.is_set()


def test_signal_relay_after_commit_on_a_plain_sessionmaker(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    metadata.create_all(engine)
    factory: sessionmaker = session_factory(engine)
    signal = threading.Event()
    signal_relay_after_commit(factory)
    outbox = Outbox(outbox_table, "plain", signal)

    session = factory()
    outbox.emit(session, submitted())
    session.rollback()
    assert not signal.is_set()
    session.commit()  # nothing pending: the rolled-back signal was forgotten
    assert not signal.is_set()
    session.close()

    with unit_of_work(factory) as session:
        outbox.emit(session, submitted())
    assert signal.is_set()
    assert count(engine, outbox_table) == 1

    # An outbox without a local signal (services mode) registers nothing.
    quiet = Outbox(outbox_table, "quiet")
    signal.clear()
    with unit_of_work(factory) as session:
        quiet.emit(session, submitted())
        assert "cg_outbox_signals" not in session.info
    assert not signal.is_set()
    engine.dispose()


def test_a_released_savepoint_does_not_wake_the_relay_before_the_commit(rt):
    """The dispatcher gives each message a SAVEPOINT: its release is not the COMMIT that makes the
    rows visible, so a relay woken then would find nothing and sleep until its safety poll."""
    rt.relay_signal.clear()
    with rt.uow() as session:
        savepoint = session.begin_nested()
        rt.outbox.emit(session, submitted())
        savepoint.commit()
        assert not rt.relay_signal.is_set(), "woken by the SAVEPOINT release"
        failed = session.begin_nested()
        session.execute(insert(effects).values(message_id="m", case_id="c"))
        failed.rollback()  # a later message of the batch failing keeps the earlier ones' wake-up
    assert rt.relay_signal.is_set(), "the real COMMIT woke nobody"


def test_a_handler_batch_wakes_the_relay_once_its_transaction_commits(rt):
    woken_while_handling = []

    def emit_one(ctx: HandlerContext, event) -> None:
        woken_while_handling.append(rt.relay_signal.is_set())
        ctx.emit(dispatched(event.case_id))

    rt.relay_signal.clear()
    results = make_dispatcher(rt, {SUBMITTED: emit_one}).handle_batch([body_of(submitted()), body_of(submitted())])
    assert [r.outcome for r in results] == [Outcome.ACK, Outcome.ACK]
    # The first message's SAVEPOINT was released before the second ran: no wake-up yet.
    assert woken_while_handling == [False, False]
    assert rt.relay_signal.is_set() and len(outbox_rows(rt)) == 2


def test_a_handler_context_is_a_unit_of_work_whose_events_name_their_cause(rt):
    from shared.uow import UnitOfWork

    seen = []

    def handler(ctx: HandlerContext, event) -> None:
        assert isinstance(ctx, UnitOfWork)
        seen.append(ctx.emit(dispatched(event.case_id)))

    incoming = envelope_for(submitted(), correlation_id="req-7")
    assert make_dispatcher(rt, {SUBMITTED: handler}).handle(incoming.to_bytes()).outcome is Outcome.ACK
    assert seen[0].correlation_id == "req-7" and seen[0].causation_id == incoming.id


def test_emit_many_writes_every_event_in_one_statement_and_wakes_the_relay(rt):
    rt.relay_signal.clear()
    with rt.unit_of_work(correlation_id="job-1") as uow:
        envelopes = rt.outbox.emit_many(uow.session, [submitted(), submitted(), dispatched()],
                                        correlation_id=uow.correlation_id)
        assert not rt.relay_signal.is_set()
    assert rt.relay_signal.is_set()
    rows = outbox_rows(rt)
    assert [r.message_id for r in rows] == [e.id for e in envelopes]
    assert {decode(r.body.encode())[0].correlation_id for r in rows} == {"job-1"}


class ObservedWakeup(LocalWakeup):
    """A LocalWakeup that tells the test when the relay has gone to sleep."""

    def __init__(self, signal):
        super().__init__(signal)
        self.sleeping = threading.Event()

    def wait(self, timeout):
        self.sleeping.set()
        super().wait(timeout)


def test_the_relay_thread_publishes_a_new_row_promptly_after_commit(rt, bus):
    wakeup = ObservedWakeup(rt.relay_signal)
    relay = OutboxRelay(rt.engine, outbox_table, bus, wakeup, safety_poll=30.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wakeup.sleeping.wait(5), "the relay never went idle"
        time.sleep(0.05)  # it is now inside its 30 s wait
        assert bus.depth("a.events") == 0

        started = time.monotonic()
        env = emit_committed(rt, submitted())[0]
        assert wait_until(lambda: bus.depth("a.events") == 1, timeout=2.0), \
            "the relay did not wake on commit (it would only have published after the 30 s safety poll)"
        assert time.monotonic() - started < 2.0
        assert outbox_rows(rt) == []
        assert relay.published == 1
        with bus.engine.connect() as conn:
            assert env.id in conn.execute(select(deliveries.c.message_id)).scalars().all()
    finally:
        stop.set()
        rt.relay_signal.set()
        thread.join(5)
    assert not thread.is_alive()


class RecordingPublisher:
    """The bus, noting how many messages each batch published."""

    def __init__(self, bus):
        self.bus, self.batches = bus, []

    def publish_batch(self, messages):
        self.batches.append(len(messages))
        return self.bus.publish_batch(messages)


def test_a_woken_relay_waits_its_linger_and_publishes_the_commits_right_behind_in_the_same_batch(rt, bus):
    wakeup = ObservedWakeup(rt.relay_signal)
    publisher = RecordingPublisher(bus)
    relay = OutboxRelay(rt.engine, outbox_table, publisher, wakeup, safety_poll=30.0, linger=0.5)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wakeup.sleeping.wait(5), "the relay never went idle"
        time.sleep(0.05)
        emit_committed(rt, submitted())
        time.sleep(0.1)  # well inside the linger
        emit_committed(rt, submitted(), submitted())
        assert wait_until(lambda: bus.depth("a.events") == 3, timeout=3.0)
        assert publisher.batches == [3]
    finally:
        stop.set()
        rt.relay_signal.set()
        thread.join(5)
    assert not thread.is_alive()


# --------------------------------------------------------------------------- local bus


def dead_reasons(bus: LocalBus, queue: str) -> list[str]:
    return [d["dead_reason"] for d in bus.dead_letters(queue)]


def drain(bus: LocalBus, queue: QueueSpec, dispatcher: Dispatcher, timeout: float, batch: int = 100) -> bool:
    """Consume until the queue holds no live message (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while bus.depth(queue.name) and time.monotonic() < deadline:
        if bus.consume_once(queue, dispatcher, batch) == 0:
            time.sleep(0.01)
    return bus.depth(queue.name) == 0


def test_a_published_message_reaches_every_matching_queue(bus):
    sub, dis = message_of(submitted()), message_of(dispatched())

    assert bus.publish_batch([sub, dis]) == [None, None]

    assert bus.depth("a.events") == 1
    assert bus.depth("b.events") == 2
    assert bus.depth("c.events") == 0
    with bus.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.queue, deliveries.c.message_id, deliveries.c.routing_key,
                                   deliveries.c.body, deliveries.c.attempt, deliveries.c.deliveries)).all()
    assert {(r.queue, r.message_id) for r in rows} == {
        ("a.events", sub.message_id), ("b.events", sub.message_id), ("b.events", dis.message_id)
    }
    for r in rows:
        assert r.attempt == 0 and r.deliveries == 0
        assert r.body.encode() in (sub.body, dis.body)


def test_an_unroutable_key_is_reported_and_nothing_is_stored(bus):
    lost = OutgoingMessage(str(uuid.uuid4()), "nobody.listens.here.v1", b"{}")
    assert bus.publish_batch([]) == []
    result = bus.publish_batch([lost])
    assert len(result) == 1 and result[0] is not None and "unroutable" in result[0]
    assert count(bus.engine, deliveries) == 0

    ok = message_of(submitted())
    results = bus.publish_batch([lost, ok])
    assert results[0] is not None and results[1] is None
    with bus.engine.connect() as conn:
        assert set(conn.execute(select(deliveries.c.message_id)).scalars()) == {ok.message_id}


def test_a_failing_handler_is_retried_after_the_delays_and_then_succeeds(rt, bus):
    calls: list[float] = []

    def handler(ctx, event):
        calls.append(time.monotonic())
        record_effect(ctx, event)
        if len(calls) <= 2:
            raise RuntimeError(f"failure {len(calls)}")

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    bus.publish_batch([message_of(submitted())])

    assert bus.consume_once(QUEUE_A, dispatcher) == 1
    assert len(calls) == 1
    with bus.engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.queue == "a.events")).one()
    assert row.attempt == 1 and row.dead_reason is None
    assert row.available_at > utcnow()
    assert bus.consume_once(QUEUE_A, dispatcher) == 0  # not due before its 50 ms delay

    assert drain(bus, QUEUE_A, dispatcher, timeout=3.0)

    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.045
    assert calls[2] - calls[1] >= 0.095
    assert bus.depth("a.events") == 0
    assert bus.dead_letters("a.events") == []
    assert count(bus.engine, deliveries, deliveries.c.queue == "a.events") == 0
    assert count(rt.engine, effects) == 1
    # The other queue's copy is untouched by this consumer.
    assert bus.depth("b.events") == 1


def test_a_handler_that_always_fails_is_dead_lettered_without_blocking_the_queue(rt, bus):
    calls = {"BAD": 0, "GOOD": 0}

    def handler(ctx, event):
        calls[event.case_no] += 1
        record_effect(ctx, event)
        if event.case_no == "BAD":
            raise ValueError("cannot handle this one")

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    bad, good = message_of(submitted("BAD")), message_of(submitted("GOOD"))
    bus.publish_batch([bad])
    bus.publish_batch([good])

    # One message per batch: the failing one is first in line.
    assert bus.consume_once(QUEUE_A, dispatcher, batch=1) == 1
    assert bus.consume_once(QUEUE_A, dispatcher, batch=1) == 1
    assert calls == {"BAD": 1, "GOOD": 1}, "the good message waited behind the failing one"

    assert drain(bus, QUEUE_A, dispatcher, timeout=3.0, batch=1)
    assert calls["BAD"] == QUEUE_A.max_attempts == 3
    assert calls["GOOD"] == 1
    dead = bus.dead_letters("a.events")
    assert [(d["message_id"], d["routing_key"]) for d in dead] == [(bad.message_id, SUBMITTED)]
    assert "gave up after 3 attempts" in dead[0]["dead_reason"]
    assert "cannot handle this one" in dead[0]["dead_reason"]
    with rt.engine.connect() as conn:
        assert conn.execute(select(effects.c.case_id)).scalars().all() == [decode(good.body)[1].case_id]
    # A dead letter is not consumed again.
    assert bus.consume_once(QUEUE_A, dispatcher) == 0
    assert calls["BAD"] == 3


def test_an_unknown_event_type_is_dead_lettered_at_once(rt, bus):
    calls = []
    dispatcher = make_dispatcher(rt, {SUBMITTED: lambda ctx, e: calls.append(e)})
    env = Envelope(type="intake.case.vanished", version=1, source="intake",
                   subject=Subject(kind="case", id="c"), data={})
    bus.publish_batch([OutgoingMessage(env.id, env.routing_key, env.to_bytes())])

    assert bus.consume_once(QUEUE_A, dispatcher) == 1

    assert calls == []
    assert bus.depth("a.events") == 0
    reasons = dead_reasons(bus, "a.events")
    assert len(reasons) == 1 and "unknown event" in reasons[0]
    with bus.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.attempt).where(deliveries.c.queue == "a.events")
                            ).scalar_one() == 0  # dead at once, not after retries


def _bump_deliveries(bus: LocalBus, to: int) -> None:
    with bus.engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.queue == "a.events").values(deliveries=to))


def test_a_message_at_the_delivery_limit_is_dead_lettered_without_calling_the_handler(rt, bus):
    calls = []

    def handler(ctx, event):
        calls.append(event)
        record_effect(ctx, event)

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    msg = message_of(submitted())
    bus.publish_batch([msg])
    # A worker took it QUEUE_A.delivery_limit times and died each time before settling it.
    _bump_deliveries(bus, QUEUE_A.delivery_limit)

    assert bus.consume_once(QUEUE_A, dispatcher) == 1

    assert calls == []
    assert count(rt.engine, effects) == 0
    assert bus.depth("a.events") == 0
    assert dead_reasons(bus, "a.events") == [f"delivery limit {QUEUE_A.delivery_limit} reached"]


def test_a_message_just_below_the_delivery_limit_is_still_handled(rt, bus):
    dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
    bus.publish_batch([message_of(submitted())])
    _bump_deliveries(bus, QUEUE_A.delivery_limit - 1)

    assert bus.consume_once(QUEUE_A, dispatcher) == 1

    assert count(rt.engine, effects) == 1
    assert bus.dead_letters("a.events") == []
    assert count(bus.engine, deliveries, deliveries.c.queue == "a.events") == 0


def test_deliveries_are_counted_before_the_handler_runs(rt, bus):
    seen = []

    def handler(ctx, event):
        with bus.engine.connect() as conn:
            seen.append(conn.execute(select(deliveries.c.deliveries)
                                     .where(deliveries.c.queue == "a.events")).scalar_one())
        raise RuntimeError("boom")

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    bus.publish_batch([message_of(submitted())])
    bus.consume_once(QUEUE_A, dispatcher)
    assert seen == [1]


def test_messages_survive_closing_and_reopening_the_bus(rt, tmp_path):
    path = tmp_path / "durable" / "bus.sqlite"
    first = LocalBus(path, SMALL)
    msgs = [message_of(submitted(str(i))) for i in range(3)]
    assert first.publish_batch(msgs) == [None] * 3
    first.close()

    reopened = LocalBus(path, SMALL)
    try:
        assert reopened.depth("a.events") == 3
        dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
        assert reopened.consume_once(QUEUE_A, dispatcher) == 3
        assert reopened.depth("a.events") == 0
        with rt.engine.connect() as conn:
            assert set(conn.execute(select(effects.c.message_id)).scalars()) == {m.message_id for m in msgs}
        assert reopened.depth("b.events") == 3  # the other queue's copies are still there
    finally:
        reopened.close()


# --------------------------------------------------------------------------- faults mended (issue 14)


def overflowing(payload) -> OutgoingMessage:
    """A valid envelope whose time has no UTC instant: converting it raised OverflowError, not a
    ValidationError, which escaped decoding and killed the consumer."""
    env = envelope_for(payload)
    body = json.loads(env.to_bytes())
    body["occurred_at"] = "0001-01-01T00:00:00+05:00"
    return OutgoingMessage(env.id, env.routing_key, json.dumps(body).encode())


def test_an_envelope_whose_time_overflows_in_utc_is_dead_not_a_crash(rt):
    dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
    good = body_of(submitted())

    results = dispatcher.handle_batch([overflowing(submitted()).body, good])

    assert [r.outcome for r in results] == [Outcome.DEAD, Outcome.ACK]
    assert "occurred_at" in results[0].reason
    assert count(rt.engine, effects) == 1


def test_any_exception_while_decoding_is_a_dead_letter_with_its_reason(rt, monkeypatch):
    import shared.messaging.dispatcher as dispatcher_module

    def broken(body):
        raise RecursionError("a validator gone wrong")

    monkeypatch.setattr(dispatcher_module, "decode", broken)
    [result] = make_dispatcher(rt, {SUBMITTED: record_effect}).handle_batch([body_of(submitted())])
    assert result.outcome is Outcome.DEAD and result.reason == "undecodable: RecursionError"


def test_the_overflow_envelope_is_dead_lettered_at_once_while_the_embedded_queue_keeps_flowing(rt, bus):
    dispatcher = make_dispatcher(rt, {SUBMITTED: record_effect})
    poison = overflowing(submitted())
    bus.publish_batch([message_of(submitted()), poison, message_of(submitted())])
    stop = threading.Event()
    thread = threading.Thread(target=bus.consume, args=(QUEUE_A, dispatcher, stop), daemon=True)
    thread.start()
    try:
        # At once: not after retries, nor after the delivery limit, and its neighbours handled with it.
        assert wait_until(lambda: count(rt.engine, effects) == 2 and bus.depth("a.events") == 0, timeout=2.0)
        [dead] = bus.dead_letters("a.events")
        assert dead["message_id"] == poison.message_id
        assert dead["dead_reason"].startswith("not an event envelope: occurred_at")
        bus.publish_batch([message_of(submitted())])
        assert wait_until(lambda: count(rt.engine, effects) == 3, timeout=2.0), "the queue stopped flowing"
        assert thread.is_alive()
    finally:
        stop.set()
        bus.wake_all()
        thread.join(5)
    with bus.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.deliveries).where(deliveries.c.queue == "a.events")).scalar_one() == 1


class BrokerAway:
    """A publisher whose broker is down until `up` is set, then a real bus; it notes every attempt."""

    def __init__(self, bus: LocalBus):
        self.bus, self.up, self.attempts = bus, False, []

    def publish_batch(self, messages):
        self.attempts.append(time.monotonic())
        if not self.up:
            raise PublishError("cannot connect to RabbitMQ: ConnectionRefusedError")
        return self.bus.publish_batch(messages)

    def close(self):
        pass


def run_relay(relay: OutboxRelay, rt: ServiceRuntime):
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()

    def stopped():
        stop.set()
        rt.relay_signal.set()
        thread.join(5)
        return not thread.is_alive()

    return stopped


def test_the_relay_publishes_within_a_second_of_the_brokers_return_after_a_long_outage(rt, bus):
    """The relay was found in a 25.6 s back-off after RabbitMQ came back; its back-off is capped at 1 s."""
    broker = BrokerAway(bus)
    relay = make_relay(rt, broker, safety_poll=30.0)
    emit_committed(rt, submitted())
    stopped = run_relay(relay, rt)
    try:
        time.sleep(4.0)  # the old doubling back-off tried at 0, 0.4, 1.2, 2.8 and next at 6.0 s
        failing = relay.failing
        broker.up = True
        back = time.monotonic()
        assert wait_until(lambda: bus.depth("a.events") == 1, timeout=5.0)
        assert time.monotonic() - back < 1.5
        gaps = [b - a for a, b in zip(broker.attempts, broker.attempts[1:], strict=False)]
        assert max(gaps) < 1.5 and min(gaps) >= OutboxRelay.MIN_RETRY * 0.9
        assert failing == "PublishError"  # the worker's readiness said so meanwhile
        assert wait_until(lambda: relay.failing is None, timeout=1.0)
    finally:
        assert stopped()


def test_a_new_row_wakes_a_relay_that_is_backing_off(rt, bus):
    broker = BrokerAway(bus)
    relay = make_relay(rt, broker, safety_poll=30.0, max_backoff=30.0)  # the back-off alone would be long
    emit_committed(rt, submitted())
    stopped = run_relay(relay, rt)
    try:
        assert wait_until(lambda: len(broker.attempts) >= 5, timeout=10.0)  # now inside a 3.2 s wait
        broker.up = True
        woken = time.monotonic()
        emit_committed(rt, submitted())
        assert wait_until(lambda: bus.depth("a.events") == 2, timeout=5.0)
        assert time.monotonic() - woken < 1.0
    finally:
        assert stopped()


# --------------------------------------------------------------------------- batch-shaped handling (issue 15)


def statements_of(engine) -> list[str]:
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", lambda _c, _cur, stmt, *_a: seen.append(" ".join(stmt.split())))
    return seen


def test_a_batch_is_claimed_by_one_inbox_insert_its_events_by_one_outbox_insert_and_no_savepoint(rt):
    def handler(ctx, event):
        record_effect(ctx, event)
        ctx.emit(dispatched(event.case_id))

    dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
    seen = statements_of(rt.engine)
    results = dispatcher.handle_batch([body_of(submitted()) for _ in range(8)])
    assert [r.outcome for r in results] == [Outcome.ACK] * 8
    assert len([s for s in seen if s.startswith("INSERT INTO inbox")]) == 1
    assert len([s for s in seen if s.startswith("INSERT INTO outbox")]) == 1
    assert [s for s in seen if s.startswith(("SAVEPOINT", "RELEASE"))] == []
    assert count(rt.engine, effects) == 8 and len(outbox_rows(rt)) == 8


def test_a_single_failing_message_is_retried_without_running_its_handler_twice(rt):
    calls = []

    def handler(ctx, event):
        calls.append(event.case_id)
        ctx.emit(dispatched(event.case_id))
        raise RuntimeError("down")

    [result] = make_dispatcher(rt, {SUBMITTED: handler}).handle_batch([body_of(submitted())])
    assert result.outcome is Outcome.RETRY and "RuntimeError" in result.reason
    assert len(calls) == 1 and outbox_rows(rt) == [] and count(rt.engine, inbox_table) == 0


def test_events_of_a_rolled_back_savepoint_are_dropped_and_those_before_and_after_it_kept_in_order(rt):
    with rt.unit_of_work() as uow:
        first = uow.emit(dispatched("before"))
        savepoint = uow.session.begin_nested()
        uow.emit(dispatched("rolled-back"))
        savepoint.rollback()
        kept = uow.session.begin_nested()
        inner = uow.emit(dispatched("released"))
        kept.commit()
        last = uow.emit(dispatched("after"))
        assert outbox_rows(rt) == [], "written before the COMMIT"
    assert [r.message_id for r in outbox_rows(rt)] == [first.id, inner.id, last.id]


def test_events_emitted_before_a_rollback_are_never_written(rt):
    with pytest.raises(LookupError), rt.unit_of_work() as uow:
        uow.emit(dispatched("gone"))
        raise LookupError("the request failed")
    with rt.unit_of_work() as uow:
        uow.session.execute(insert(effects).values(message_id="m", case_id="c"))
    assert outbox_rows(rt) == []
