"""The faults the fault-injection runs found (issue 14), each against the real servers: a poison envelope on
RabbitMQ, the relay's wake-up on PostgreSQL, the broker going away and coming back (a TCP proxy on loopback in
front of RabbitMQ: the machine's broker is never stopped), the worker's readiness, and SIGTERM to a worker
process. Embedded-mode counterparts are in tests/unit (test_messaging.py, test_worker.py, test_readiness.py)."""

import json
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pika
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Column, MetaData, String, Table, bindparam, event, func, insert, select, text

from services.cluster import Cluster, _vhost, free_port, wait_for
from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.config import get_settings
from shared.db import make_engine
from shared.events import envelope_for
from shared.events.identity import SessionRevoked
from shared.events.intake import CaseSubmitted, CaseWithdrawn
from shared.events.routing import CaseDispatched
from shared.messaging.amqp import AmqpConsumer, AmqpPublisher
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.publisher import OutgoingMessage
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables
from shared.messaging.wakeup import LocalWakeup
from shared.runtime import ServiceRuntime, build_runtime
from shared.service import ServiceSpec
from shared.web import create_app
from shared.worker import AmqpTransport, Worker, serve_health
from tests.broker import take_all

from .tcp_proxy import TcpProxy

SUBMITTED = "intake.case.submitted.v1"

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)
auth = auth_tables(metadata)
audit = audit_table(metadata)
effects = Table("effects", metadata, Column("message_id", String(36)), Column("case_no", String(40)))


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def vhost_url(rabbitmq_url) -> Iterator[str]:
    """A private vhost, for tests that run the product's own topology."""
    name = f"cg_faults_{uuid.uuid4().hex[:8]}"
    if not _vhost(name, "add"):
        pytest.skip("rabbitmqctl cannot add a vhost here")
    yield f"{rabbitmq_url.rsplit('/', 1)[0]}/{name}"
    _vhost(name, "delete")


@pytest.fixture
def rt(tmp_path, pg_database) -> Iterator[ServiceRuntime]:
    """A runtime on a fresh PostgreSQL database (outbox, inbox, effects); its relay waits 30 s between polls."""
    settings = get_settings(var_dir=tmp_path, relay_safety_poll_seconds=30.0)
    runtime = build_runtime("faults", settings, outbox, inbox, url=pg_database)
    metadata.create_all(runtime.engine)
    yield runtime
    runtime.dispose()


def submitted(case_no: str = "2026-11-000001") -> CaseSubmitted:
    return CaseSubmitted(case_id=str(uuid.uuid4()), case_no=case_no, category="噪音扰民", channel="app",
                         submitted_at=datetime.now(UTC))


def outgoing(payload) -> OutgoingMessage:
    env = envelope_for(payload)
    return OutgoingMessage(env.id, env.routing_key, env.to_bytes())


def overflowing(payload) -> OutgoingMessage:
    """Valid but for a time with no UTC instant: converting it raised OverflowError, which killed the consumer."""
    message = outgoing(payload)
    body = json.loads(message.body)
    body["occurred_at"] = "0001-01-01T00:00:00+05:00"
    return OutgoingMessage(message.message_id, message.routing_key, json.dumps(body).encode())


def message_count(url: str, queue: str) -> int:
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        return conn.channel().queue_declare(queue, passive=True).method.message_count


def until(predicate, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Recorder:
    """A publisher that takes everything and notes when each message was handed over."""

    def __init__(self, inner=None):
        self.inner, self.published_at = inner, {}

    def publish_batch(self, messages):
        results = self.inner.publish_batch(messages) if self.inner is not None else [None] * len(messages)
        now = time.monotonic()
        self.published_at.update({m.message_id: now for m, r in zip(messages, results, strict=True) if r is None})
        return results

    def close(self):
        if self.inner is not None:
            self.inner.close()


def dispatched_for(event) -> CaseDispatched:
    return CaseDispatched(case_id=event.case_id, case_no=event.case_no, work_order_id="wo-1", seq=1, unit_id="u-1",
                          unit_code="510107001001001", unit_name="第一网格", unit_level="grid", rule="属地派单",
                          at=datetime.now(UTC))


# --------------------------------------------------------------------------- 1. one poison message


@pytest.mark.rabbitmq
def test_the_overflow_envelope_is_dead_lettered_at_once_while_the_rabbitmq_queue_keeps_flowing(
        rabbitmq_url, topology, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite'}")
    metadata.create_all(engine)
    runtime = build_runtime("faults", get_settings(var_dir=tmp_path), outbox, inbox,
                            url=f"sqlite:///{tmp_path / 'service.sqlite'}")

    def record(ctx, event):
        ctx.session.execute(insert(effects).values(message_id=ctx.envelope.id, case_no=event.case_no))

    dispatcher = Dispatcher("faults", runtime.sessions, inbox, runtime.outbox, {SUBMITTED: record})
    queue = topology.queues[0]
    consumer = AmqpConsumer(rabbitmq_url, queue, dispatcher, topology, prefetch=50, batch=20)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    publisher = AmqpPublisher(rabbitmq_url, topology)

    def handled() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(effects)).scalar_one()

    try:
        assert consumer.connected.wait(10)
        poison = overflowing(submitted("POISON"))
        assert publisher.publish_batch([outgoing(submitted("A")), poison, outgoing(submitted("B"))]) == [None] * 3
        # At once: not after 21 deliveries and minutes of restarts, and its neighbours in the batch handled.
        assert until(lambda: handled() == 2 and message_count(rabbitmq_url, queue.dlq) == 1, timeout=3.0)
        [(props, body)] = take_all(rabbitmq_url, queue.dlq)
        assert props.message_id == poison.message_id and body == poison.body
        assert props.headers["x-death-reason"].startswith("not an event envelope: occurred_at")
        assert "x-attempt" not in props.headers  # dead, not retried
        assert publisher.publish_batch([outgoing(submitted("C"))]) == [None]
        assert until(lambda: handled() == 3, timeout=3.0), "the queue stopped flowing"
        assert thread.is_alive() and consumer.connected.is_set()
        assert message_count(rabbitmq_url, queue.name) == 0
    finally:
        publisher.close()
        stop.set()
        thread.join(5)
        runtime.dispose()
        engine.dispose()


# --------------------------------------------------------------------------- 2. relay wake-ups


@pytest.mark.postgres
def test_a_handler_batch_wakes_the_relay_at_its_commit_not_at_a_savepoint_release_on_postgresql(rt):
    """The dispatcher gives each message a SAVEPOINT. Woken when one is released, the relay looks before the
    COMMIT, finds nothing and sleeps; the COMMIT then woke nobody, and the events waited for the safety poll
    (30 s here; 2-5 s in the runs, for the next case or the poll)."""
    def emit(ctx, event):
        ctx.emit(dispatched_for(event))

    handling = threading.current_thread()

    @event.listens_for(rt.sessions, "before_commit")
    def slow_commit(session) -> None:
        # A COMMIT takes a moment under load (the WAL flush): long enough for a relay woken early to look.
        if not session.in_nested_transaction() and threading.current_thread() is handling:
            time.sleep(0.3)

    dispatcher = Dispatcher("faults", rt.sessions, inbox, rt.outbox, {SUBMITTED: emit})
    recorder = Recorder()
    looked = threading.Event()

    class Watched(LocalWakeup):
        def wait(self, timeout):
            looked.set()
            super().wait(timeout)

    relay = OutboxRelay(rt.engine, outbox, recorder, Watched(rt.relay_signal), safety_poll=30.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert looked.wait(5)
        time.sleep(0.1)  # the relay is inside its 30 s wait: a quiet system
        results = dispatcher.handle_batch([outgoing(submitted("1")).body, outgoing(submitted("2")).body])
        committed = time.monotonic()
        assert all(r.reason == "" for r in results)
        assert until(lambda: len(recorder.published_at) == 2, timeout=5.0), "the events waited for the safety poll"
        latency = max(recorder.published_at.values()) - committed
        assert latency < 1.0, latency  # a few milliseconds, typically
    finally:
        stop.set()
        rt.relay_signal.set()
        thread.join(5)


class RecordingAmqp(AmqpTransport):
    def publisher(self):
        self.recorder = Recorder(super().publisher())
        return self.recorder


def worker_spec(handlers) -> ServiceSpec:
    # Named after a real service so the worker consumes that service's queue (mediation.events).
    return ServiceSpec(name="mediation", title="t", description="t", metadata=metadata, outbox=outbox, inbox=inbox,
                       auth=auth, audit=audit, router=APIRouter(), handlers=lambda rt: handlers)


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_a_services_mode_worker_publishes_a_handlers_events_within_moments_of_the_commit(
        vhost_url, pg_database, tmp_path):
    """The whole services-mode path in a quiet system: consumer, handler, COMMIT, the after-commit signal, the
    NOTIFY, the relay's LISTEN, the publish. The safety poll is 30 s."""
    handled: dict[str, float] = {}
    emitted: dict[str, str] = {}

    def on_withdrawn(ctx, event) -> None:
        handled[ctx.envelope.id] = time.monotonic()
        emitted[ctx.envelope.id] = ctx.emit(dispatched_for(event)).id

    spec = worker_spec({"intake.case.withdrawn.v1": on_withdrawn})
    settings = get_settings(var_dir=tmp_path, amqp_url=vhost_url, relay_safety_poll_seconds=30.0)
    rt = spec.runtime(settings, pg_database)
    metadata.create_all(rt.engine)
    transport = RecordingAmqp(rt)
    worker = Worker(spec, rt, transport)
    worker.start()
    publisher = AmqpPublisher(vhost_url)
    try:
        assert until(lambda: worker.readiness()[0], timeout=15), worker.readiness()
        latencies = []
        for _ in range(3):  # one at a time, each into a quiet system
            time.sleep(0.5)
            message = outgoing(CaseWithdrawn(case_id=str(uuid.uuid4()), case_no="2026-11-000001",
                                             at=datetime.now(UTC)))
            assert publisher.publish_batch([message]) == [None]
            assert until(lambda m=message: emitted.get(m.message_id) in transport.recorder.published_at,
                         timeout=10.0), "the event waited for the safety poll"
            latencies.append(transport.recorder.published_at[emitted[message.message_id]]
                             - handled[message.message_id])
        print(f"handler start to publish confirmed: {[round(x * 1000) for x in latencies]} ms")
        assert max(latencies) < 1.0, latencies
    finally:
        publisher.close()
        worker.stop()
        rt.dispose()


# --------------------------------------------------------------------------- 3. the broker's return


@pytest.mark.rabbitmq
def test_the_relay_publishes_within_two_seconds_of_the_brokers_return(rabbitmq_url, topology, tmp_path):
    settings = get_settings(var_dir=tmp_path)
    runtime = build_runtime("faults", settings, outbox, inbox, url=f"sqlite:///{tmp_path / 'relay.sqlite'}")
    metadata.create_all(runtime.engine)
    proxy = TcpProxy().up()
    relay = OutboxRelay(runtime.engine, outbox, AmqpPublisher(proxy.url(), topology, connect_timeout=3),
                        LocalWakeup(runtime.relay_signal), safety_poll=30.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    queue = topology.queues[0].name

    def emit():
        with runtime.unit_of_work() as uow:
            uow.emit(submitted())

    try:
        emit()
        assert until(lambda: relay.published == 1, timeout=10)
        proxy.down()  # RabbitMQ stops: its port closes, its connections drop
        emit()  # an accepted case meanwhile: its event waits in the outbox
        time.sleep(7.0)  # the old doubling back-off was by now in a 6.4 s wait (then 12.8, then 25.6)
        assert relay.published == 1 and relay.failing is not None
        proxy.up()
        back = time.monotonic()
        assert until(lambda: relay.published == 2, timeout=15)
        late = time.monotonic() - back
        assert late < 2.0, f"published {late:.1f}s after the broker's return"
        assert until(lambda: message_count(rabbitmq_url, queue) == 2, timeout=5)
    finally:
        stop.set()
        runtime.relay_signal.set()
        thread.join(5)
        relay.publisher.close()
        proxy.close()
        runtime.dispose()


# --------------------------------------------------------------------------- 4. readiness


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_without_the_broker_the_api_stays_ready_and_the_worker_is_not(vhost_url, pg_database, tmp_path):
    """An API is ready when it can do its job (its database): its outbox keeps the events while RabbitMQ is
    down. The broker is part of the worker's readiness."""
    proxy = TcpProxy().up()
    spec = worker_spec({})
    settings = get_settings(mode="embedded", var_dir=tmp_path, amqp_url=proxy.url(vhost_url.rsplit("/", 1)[1]),
                            relay_safety_poll_seconds=30.0)
    rt = spec.runtime(settings, pg_database)
    metadata.create_all(rt.engine)
    api = TestClient(create_app(rt, title="t", description="t", router=APIRouter()))
    worker = Worker(spec, rt, AmqpTransport(rt))
    worker.start()
    server = serve_health(worker, "127.0.0.1:0")
    probes = f"http://127.0.0.1:{server.server_address[1]}"

    def worker_ready() -> tuple[int, dict]:
        r = httpx.get(f"{probes}/readyz", timeout=5)
        return r.status_code, r.json()["checks"]

    try:
        assert until(lambda: worker_ready()[0] == 200, timeout=15), worker_ready()
        assert api.get("/mediation/readyz").status_code == 200

        proxy.down()
        assert until(lambda: worker_ready()[0] == 503, timeout=5)
        assert worker_ready()[1]["broker"] == "not connected: mediation.events"
        with rt.unit_of_work() as uow:  # the API accepts work meanwhile: the event waits in the outbox
            uow.emit(submitted())
        assert until(lambda: worker_ready()[1]["relay"].startswith("failing"), timeout=5)
        r = api.get("/mediation/readyz")
        assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "token_keys": "ok"}
        assert httpx.get(f"{probes}/healthz", timeout=5).status_code == 200  # alive: a restart mends nothing

        proxy.up()
        assert until(lambda: worker_ready()[0] == 200, timeout=5), worker_ready()
        assert until(lambda: worker.relay.published == 1, timeout=5)
    finally:
        worker.stop()
        server.shutdown()
        server.server_close()
        proxy.close()
        rt.dispose()


# --------------------------------------------------------------------------- 6. SIGTERM


def worker_process(cluster: Cluster, name: str) -> None:
    cluster.start(name, "worker")
    log = cluster.log_dir / f"{name}-worker.log"
    wait_for(lambda: log.exists() and "running" in log.read_text(errors="replace"), timeout=60,
             what=f"{name} worker running")


def sigterm(cluster: Cluster, key: str) -> float:
    proc = cluster.procs.pop(key)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.returncode
    return time.monotonic() - started


@pytest.fixture
def cluster(pg_url, rabbitmq_url, tmp_path) -> Iterator[Cluster]:
    c = Cluster(pg_url, rabbitmq_url, tmp_path / "cluster", tag="faults")
    try:
        c.run("-m", "shared.migrate", "mediation")
        yield c
    finally:
        c.close()
        sys.stderr.write(c.logs())  # pytest shows it only when the test failed


@pytest.mark.e2e
@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_a_worker_process_stops_within_seconds_of_sigterm_while_its_broker_hangs(cluster):
    """A consumer blocked in the AMQP handshake with a broker that does not answer held the stop for 10-20 s."""
    deaf = TcpProxy().deaf()
    probes = free_port()
    cluster.env.update({"CG_AMQP_URL": deaf.url(), "CG_WORKER_HEALTH_ADDRESS": f"127.0.0.1:{probes}"})
    try:
        worker_process(cluster, "mediation")
        time.sleep(1.0)  # its consumer is now waiting for the broker's first bytes
        # Its probes meanwhile: alive (a restart would mend nothing), not ready (no broker).
        assert httpx.get(f"http://127.0.0.1:{probes}/healthz", timeout=5).status_code == 200
        r = httpx.get(f"http://127.0.0.1:{probes}/readyz", timeout=5)
        assert r.status_code == 503 and r.json()["checks"]["broker"] == "not connected: mediation.events"
        took = sigterm(cluster, "mediation-worker")
        print(f"stopped {took:.2f}s after SIGTERM")
        assert took < 5.0, f"stopped {took:.1f}s after SIGTERM"
    finally:
        deaf.close()


@pytest.mark.e2e
@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_a_worker_process_stopped_by_sigterm_mid_stream_stops_within_seconds_and_loses_nothing(cluster):
    worker_process(cluster, "mediation")
    wait_for(lambda: "consumer: connected" in (cluster.log_dir / "mediation-worker.log").read_text(errors="replace"),
             timeout=30, what="consumer connected")
    messages = [outgoing(SessionRevoked(session_id=str(uuid.uuid4()), user_id="u-1", reason="signed_out",
                                        at=datetime.now(UTC))) for _ in range(1500)]
    publisher = AmqpPublisher(cluster.env["CG_AMQP_URL"])
    assert publisher.publish_batch(messages) == [None] * len(messages)
    publisher.close()
    engine = make_engine(cluster.database_url("mediation"))
    ids = [m.message_id for m in messages]
    handled_query = text("SELECT count(*) FROM inbox WHERE message_id IN :ids").bindparams(
        bindparam("ids", expanding=True))

    def handled() -> int:
        with engine.connect() as conn:
            return conn.execute(handled_query, {"ids": ids}).scalar_one()

    try:
        wait_for(lambda: handled() >= 100, timeout=30, interval=0.01, what="the stream flowing")
        took = sigterm(cluster, "mediation-worker")
        assert took < 5.0, f"stopped {took:.1f}s after SIGTERM"
        at_stop = handled()
        print(f"stopped {took:.2f}s after SIGTERM with {at_stop} of {len(messages)} handled")
        assert at_stop < len(messages), "the stream had ended before the SIGTERM: make it longer"

        worker_process(cluster, "mediation")  # what it had not acknowledged is delivered again
        wait_for(lambda: handled() == len(messages), timeout=60, what="every message handled")
        time.sleep(0.5)
        with engine.connect() as conn:
            revoked = conn.execute(select(func.count()).select_from(auth.revocations)).scalar_one()
        assert revoked == len(messages)  # each once: nothing lost, nothing twice
    finally:
        engine.dispose()
