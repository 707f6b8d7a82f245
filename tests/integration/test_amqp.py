"""The RabbitMQ transport against a real broker.

Every test declares its own exchanges and queues under a unique prefix and deletes them
afterwards, so it never touches the product's topology.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pika
import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from shared.db import make_engine, session_factory, unit_of_work
from shared.events import Envelope, Subject, envelope_for
from shared.events.intake import CaseSubmitted
from shared.messaging.amqp import AmqpConsumer, AmqpPublisher, declare_topology
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.outbox import Outbox
from shared.messaging.publisher import OutgoingMessage, PublishError
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables
from shared.messaging.topology import Topology, queue_declarations
from shared.messaging.wakeup import LocalWakeup
from tests.broker import take_all

pytestmark = pytest.mark.rabbitmq

SUBMITTED = "intake.case.submitted.v1"
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/%2F"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def publisher(rabbitmq_url, topology) -> Iterator[AmqpPublisher]:
    pub = AmqpPublisher(rabbitmq_url, topology)
    yield pub
    pub.close()


@dataclass
class Service:
    """A test service: SQLite database, outbox, an `effects` table and its dispatcher."""

    engine: object
    factory: object
    outbox_table: Table
    outbox: Outbox
    effects: Table
    handler_calls: list[str]

    def dispatcher(self, fail: Callable[[CaseSubmitted, int], bool] = lambda p, n: False) -> Dispatcher:
        """`fail(payload, nth_call_for_this_message)` says whether the handler raises."""

        def record(ctx, payload):
            self.handler_calls.append(ctx.envelope.id)
            if fail(payload, self.handler_calls.count(ctx.envelope.id)):
                raise RuntimeError(f"handler failed for {payload.case_no}")
            ctx.session.execute(
                insert(self.effects).values(message_id=ctx.envelope.id, case_no=payload.case_no)
            )

        inbox = self.outbox_table.metadata.tables["inbox"]
        return Dispatcher("test", self.factory, inbox, self.outbox, {SUBMITTED: record})

    def effect_count(self, case_no: str | None = None) -> int:
        query = select(func.count()).select_from(self.effects)
        if case_no is not None:
            query = query.where(self.effects.c.case_no == case_no)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def outbox_rows(self) -> list:
        with self.engine.connect() as conn:
            return conn.execute(select(self.outbox_table)).all()


@pytest.fixture
def service(tmp_path) -> Iterator[Service]:
    metadata = MetaData()
    outbox_table, _inbox = messaging_tables(metadata)
    # No unique key: a handler that ran twice would leave two rows.
    effects = Table("effects", metadata, Column("message_id", String(36)), Column("case_no", String(40)))
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    metadata.create_all(engine)
    yield Service(engine, session_factory(engine), outbox_table, Outbox(outbox_table, "test"), effects, [])
    engine.dispose()


def submitted(case_no: str) -> Envelope:
    return envelope_for(CaseSubmitted(
        case_id=str(uuid.uuid4()), case_no=case_no, category="噪音扰民", channel="app",
        submitted_at=datetime.now(UTC),
    ))


def outgoing(env: Envelope) -> OutgoingMessage:
    return OutgoingMessage(env.id, env.routing_key, env.to_bytes())


@contextmanager
def consuming(url: str, topology: Topology, dispatcher: Dispatcher, linger: float = 0.0) -> Iterator[None]:
    consumer = AmqpConsumer(url, topology.queues[0], dispatcher, topology, prefetch=50, batch=20, linger=linger)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        started = time.monotonic()
        thread.join(5)
        assert not thread.is_alive(), "consumer did not stop"
        assert time.monotonic() - started < 1.5, "consumer was slow to stop"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def message_count(url: str, queue: str) -> int:
    """Ready messages in a queue (unacked ones return to ready once their consumer has gone)."""
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        return conn.channel().queue_declare(queue, passive=True).method.message_count


def total_in(url: str, topology: Topology) -> dict[str, int]:
    return {name: message_count(url, name) for name, _ in queue_declarations(topology.queues[0], topology)}


# --------------------------------------------------------------------------- publisher


def test_declare_topology_is_idempotent(rabbitmq_url, topology):
    with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
        declare_topology(conn.channel(), topology)
        declare_topology(conn.channel(), topology)  # same arguments: no PRECONDITION_FAILED
    assert total_in(rabbitmq_url, topology) == {name: 0 for name in total_in(rabbitmq_url, topology)}


def test_publish_batch_confirms_every_message_and_they_arrive(rabbitmq_url, topology, publisher):
    messages = [outgoing(submitted(f"C{i:05d}")) for i in range(2_000)]

    assert publisher.publish_batch(messages) == [None] * 2_000

    queue = topology.queues[0].name
    wait_until(lambda: message_count(rabbitmq_url, queue) == 2_000, timeout=5)
    props, body = take_all(rabbitmq_url, queue)[0]
    assert (props.message_id, props.type, body) == (messages[0].message_id, SUBMITTED, messages[0].body)
    assert (props.delivery_mode, props.content_type) == (2, "application/json")


def test_unroutable_message_fails_alone(rabbitmq_url, topology, publisher):
    good = [outgoing(submitted("C1")), outgoing(submitted("C2"))]
    lost = OutgoingMessage(str(uuid.uuid4()), "nobody.listens.here.v1", b"{}")

    results = publisher.publish_batch([good[0], lost, good[1]])

    assert results[0] is None and results[2] is None
    assert results[1] is not None and results[1].startswith("unroutable: ")
    wait_until(lambda: message_count(rabbitmq_url, topology.queues[0].name) == 2, timeout=5)


def test_message_the_broker_rejects_is_reported_as_nacked(rabbitmq_url, topology, publisher):
    # A queue that holds one message and rejects further publishes makes the broker nack them.
    full = f"{topology.exchange}.full"
    with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
        channel = conn.channel()
        declare_topology(channel, topology)
        channel.queue_declare(full, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
        channel.queue_bind(full, topology.exchange, routing_key="full.#")
    try:
        first, second = (OutgoingMessage(str(uuid.uuid4()), "full.case.x.v1", b"{}") for _ in range(2))
        good = outgoing(submitted("C1"))

        assert publisher.publish_batch([first, second, good]) == [None, "nacked by broker", None]
    finally:
        with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
            conn.channel().queue_delete(full)


def test_unreachable_broker_raises_publish_error_quickly(topology):
    publisher = AmqpPublisher(UNREACHABLE, topology, connect_timeout=3)
    started = time.monotonic()
    with pytest.raises(PublishError):
        publisher.publish_batch([outgoing(submitted("C1"))])
    assert time.monotonic() - started < 3
    publisher.close()


def test_lost_channel_raises_then_next_batch_reconnects_and_redeclares(rabbitmq_url, topology, publisher):
    assert publisher.publish_batch([outgoing(submitted("C1"))]) == [None]
    with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
        conn.channel().exchange_delete(topology.exchange)  # the broker closes the publishing channel

    with pytest.raises(PublishError):
        publisher.publish_batch([outgoing(submitted("C2"))])

    assert publisher.publish_batch([outgoing(submitted("C3"))]) == [None]
    wait_until(lambda: message_count(rabbitmq_url, topology.queues[0].name) == 2, timeout=5)


# --------------------------------------------------------------------------- consumer


def test_consumer_reconnects_when_its_queue_is_deleted(rabbitmq_url, topology, publisher, service):
    queue = topology.queues[0].name

    with consuming(rabbitmq_url, topology, service.dispatcher()):
        wait_until(lambda: queue_exists(rabbitmq_url, queue))
        with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
            conn.channel().queue_delete(queue)  # the broker cancels the consumer
        time.sleep(0.1)
        wait_until(lambda: queue_exists(rabbitmq_url, queue))  # declared again on reconnect
        message = outgoing(submitted("AFTER"))
        # A quorum queue re-declared right after its deletion can be refused for a moment
        # (cluster_not_formed); the relay retries a PublishError, and so does this test.
        wait_until(lambda: publish_or_false(publisher, message))
        wait_until(lambda: service.effect_count("AFTER") == 1)


def publish_or_false(publisher, message) -> bool:
    try:
        return publisher.publish_batch([message]) == [None]
    except PublishError:
        return False


def queue_exists(url: str, queue: str) -> bool:
    try:
        message_count(url, queue)
    except pika.exceptions.ChannelClosedByBroker:
        return False
    return True


def test_consumer_without_broker_keeps_retrying_and_stops_promptly(topology, service):
    with consuming(UNREACHABLE, topology, service.dispatcher()):
        time.sleep(1.7)  # failed attempts at 0, 0.5 and 1.5 s: now inside a 2 s back-off wait
    assert service.handler_calls == []


def test_handled_messages_are_acked_and_committed(rabbitmq_url, topology, publisher, service):
    envelopes = [submitted(f"C{i}") for i in range(50)]
    publisher.publish_batch([outgoing(e) for e in envelopes])

    with consuming(rabbitmq_url, topology, service.dispatcher()):
        wait_until(lambda: service.effect_count() == 50)

    assert sorted(service.handler_calls) == sorted(e.id for e in envelopes)
    assert sum(total_in(rabbitmq_url, topology).values()) == 0


class BatchSizes:
    """A dispatcher that notes the size of each batch it is handed, and when it began and ended; the first
    batch takes `first_takes` seconds."""

    def __init__(self, dispatcher: Dispatcher, first_takes: float = 0.0):
        self.dispatcher, self.first_takes = dispatcher, first_takes
        self.sizes, self.began, self.ended = [], [], []
        self.handling = threading.Event()

    def handle_batch(self, bodies):
        self.began.append(time.monotonic())
        self.sizes.append(len(bodies))
        self.handling.set()
        if len(self.sizes) == 1:
            time.sleep(self.first_takes)
        try:
            return self.dispatcher.handle_batch(bodies)
        finally:
            self.ended.append(time.monotonic())


@pytest.mark.parametrize("linger, first_batch", [(0.5, 5), (0.0, 1)])
def test_an_idle_consumer_waits_its_linger_for_the_messages_right_behind_the_first(
        rabbitmq_url, topology, publisher, service, linger, first_batch):
    batches = BatchSizes(service.dispatcher())
    with consuming(rabbitmq_url, topology, batches, linger=linger):
        time.sleep(0.3)  # connected and idle
        publisher.publish_batch([outgoing(submitted("C0"))])
        time.sleep(0.1)
        publisher.publish_batch([outgoing(submitted(f"C{i}")) for i in range(1, 5)])
        wait_until(lambda: service.effect_count() == 5)
    assert batches.sizes[0] == first_batch


def test_deliveries_that_piled_up_during_a_batch_are_handled_at_once_without_lingering(
        rabbitmq_url, topology, publisher, service):
    batches = BatchSizes(service.dispatcher(), first_takes=0.5)
    with consuming(rabbitmq_url, topology, batches, linger=1.0):
        time.sleep(0.3)
        publisher.publish_batch([outgoing(submitted("C0"))])
        assert batches.handling.wait(5)
        publisher.publish_batch([outgoing(submitted(f"C{i}")) for i in range(1, 4)])  # while the first is handled
        wait_until(lambda: service.effect_count() == 4)
    assert batches.sizes == [1, 3]
    assert batches.began[1] - batches.ended[0] < 0.5  # not the linger's second


def test_failing_handler_is_retried_through_the_retry_queues(rabbitmq_url, topology, publisher, service):
    env = submitted("FLAKY")
    publisher.publish_batch([outgoing(env)])

    with consuming(rabbitmq_url, topology, service.dispatcher(fail=lambda p, nth: nth <= 2)):
        wait_until(lambda: service.effect_count() == 1)

    assert service.handler_calls == [env.id] * 3
    assert service.effect_count() == 1
    assert sum(total_in(rabbitmq_url, topology).values()) == 0


def test_poison_message_is_dead_lettered_and_does_not_block_the_queue(
    rabbitmq_url, topology, publisher, service
):
    queue = topology.queues[0]
    poison, good = submitted("POISON"), submitted("GOOD")
    dispatcher = service.dispatcher(fail=lambda p, nth: p.case_no == "POISON")

    with consuming(rabbitmq_url, topology, dispatcher):
        publisher.publish_batch([outgoing(poison)])
        wait_until(lambda: service.handler_calls.count(poison.id) >= 1)
        publisher.publish_batch([outgoing(good)])
        wait_until(lambda: service.effect_count("GOOD") == 1)
        wait_until(lambda: message_count(rabbitmq_url, queue.dlq) == 1)

    assert service.handler_calls.count(poison.id) == queue.max_attempts
    assert service.effect_count("POISON") == 0
    [(props, body)] = take_all(rabbitmq_url, queue.dlq)
    assert props.message_id == poison.id and body == poison.to_bytes()
    assert props.headers["x-attempt"] == queue.max_attempts
    assert "RuntimeError: handler failed for POISON" in props.headers["x-death-reason"]
    assert sum(total_in(rabbitmq_url, topology).values()) == 0


def test_unknown_event_type_goes_straight_to_the_dlq(rabbitmq_url, topology, publisher, service):
    queue = topology.queues[0]
    unknown = Envelope(type="intake.case.teleported", version=1, source="intake",
                       subject=Subject(kind="case", id="x"), data={})
    publisher.publish_batch([outgoing(unknown)])

    with consuming(rabbitmq_url, topology, service.dispatcher()):
        wait_until(lambda: message_count(rabbitmq_url, queue.dlq) == 1)

    [(props, _body)] = take_all(rabbitmq_url, queue.dlq)
    assert props.message_id == unknown.id
    assert "unknown event intake.case.teleported v1" in props.headers["x-death-reason"]
    assert "x-attempt" not in props.headers
    assert service.handler_calls == []
    assert sum(total_in(rabbitmq_url, topology).values()) == 0


def test_duplicate_delivery_has_its_effect_once(rabbitmq_url, topology, publisher, service):
    env = submitted("TWICE")
    publisher.publish_batch([outgoing(env)])
    publisher.publish_batch([outgoing(env)])
    wait_until(lambda: message_count(rabbitmq_url, topology.queues[0].name) == 2, timeout=5)

    with consuming(rabbitmq_url, topology, service.dispatcher()):
        wait_until(lambda: message_count(rabbitmq_url, topology.queues[0].name) == 0)
        time.sleep(0.3)  # let the second copy's transaction finish, if it were to run the handler

    assert service.handler_calls == [env.id]
    assert service.effect_count() == 1
    assert sum(total_in(rabbitmq_url, topology).values()) == 0


# --------------------------------------------------------------------------- relay end to end


def test_relay_publishes_committed_outbox_rows_and_they_are_consumed(
    rabbitmq_url, topology, publisher, service
):
    envelopes = [submitted(f"R{i}") for i in range(30)]
    orphan = Envelope(type="nobody.listens", version=1, source="nobody",
                      subject=Subject(kind="case", id="x"), data={})
    with unit_of_work(service.factory) as session:
        for env in [*envelopes, orphan]:
            service.outbox.add(session, env)
    relay = OutboxRelay(service.engine, service.outbox_table, publisher, LocalWakeup(threading.Event()))

    assert relay.publish_pending() == 31

    [kept] = service.outbox_rows()  # the unroutable row stays, to be retried later
    assert kept.message_id == orphan.id and kept.attempts == 1
    assert kept.last_error.startswith("unroutable: ")
    with consuming(rabbitmq_url, topology, service.dispatcher()):
        wait_until(lambda: service.effect_count() == 30)
    assert sorted(service.handler_calls) == sorted(e.id for e in envelopes)


def test_relay_keeps_the_rows_when_the_broker_is_unreachable(topology, service):
    with unit_of_work(service.factory) as session:
        for i in range(3):
            service.outbox.add(session, submitted(f"K{i}"))
    publisher = AmqpPublisher(UNREACHABLE, topology, connect_timeout=3)
    relay = OutboxRelay(service.engine, service.outbox_table, publisher, LocalWakeup(threading.Event()))

    with pytest.raises(PublishError):
        relay.publish_pending()

    rows = service.outbox_rows()
    assert len(rows) == 3 and all(r.attempts == 0 for r in rows)
    publisher.close()
