"""A service's worker (relay, consumers, background work) starts the same way in both modes and
stops at once: no thread sleeps out its timeout."""

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import MetaData

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.config import get_settings
from shared.events import envelope_for
from shared.events.intake import CaseWithdrawn
from shared.events.routing import CaseDispatched
from shared.messaging.local_bus import LocalBus
from shared.messaging.publisher import OutgoingMessage, PublishError
from shared.messaging.tables import messaging_tables
from shared.service import ServiceSpec
from shared.worker import DRAIN_SECONDS, LocalTransport, Worker, serve_health

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)
auth = auth_tables(metadata)
audit = audit_table(metadata)


def spec_with(background) -> ServiceSpec:
    # Named after a real service so the worker consumes that service's queues of the topology.
    return ServiceSpec(name="mediation", title="t", description="t", metadata=metadata, outbox=outbox, inbox=inbox,
                       auth=auth, audit=audit, router=APIRouter(), handlers=lambda rt: {}, background=background)


@pytest.fixture
def parts(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded", relay_safety_poll_seconds=30.0)
    bus = LocalBus(tmp_path / "bus.sqlite")
    yield settings, bus
    bus.close()


def test_stopping_wakes_the_relay_the_consumers_and_background_waits_at_once(parts):
    settings, bus = parts
    waiting = threading.Event()

    def background(rt, stop):
        wake = rt.wakeup("sender")
        waiting.set()
        while not stop.is_set():
            wake.wait(30.0)  # e.g. notify's sender between batches
            wake.clear()

    spec = spec_with(background)
    rt = spec.runtime(settings, f"sqlite:///{settings.var_dir / 'm.sqlite'}")
    metadata.create_all(rt.engine)
    worker = Worker(spec, rt, LocalTransport(bus))
    worker.start()
    assert waiting.wait(5)
    time.sleep(0.2)  # every thread is now inside a long wait
    assert all(t.is_alive() for t in worker.threads)
    started = time.monotonic()
    worker.stop()
    assert time.monotonic() - started < 2.0  # not the 30 s the threads were sleeping
    assert not any(t.is_alive() for t in worker.threads)
    rt.dispose()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_thread_that_dies_makes_the_worker_exit_non_zero_so_it_is_restarted(parts):
    settings, bus = parts

    def background(rt, stop):
        raise RuntimeError("an unexpected error")

    spec = spec_with(background)
    rt = spec.runtime(settings, f"sqlite:///{settings.var_dir / 'm.sqlite'}")
    metadata.create_all(rt.engine)
    assert Worker(spec, rt, LocalTransport(bus)).run() == 1
    rt.dispose()


# --------------------------------------------------------------------------- faults mended (issue 14)


class RecordingBus:
    """The bus as the relay's publisher, noting when each message was handed over."""

    def __init__(self, bus: LocalBus, down: bool = False):
        self.bus, self.down, self.published_at = bus, down, {}

    def publish_batch(self, messages):
        if self.down:
            raise PublishError("cannot connect to RabbitMQ: ConnectionRefusedError")
        results = self.bus.publish_batch(messages)
        now = time.monotonic()
        self.published_at.update({m.message_id: now for m in messages})
        return results

    def close(self):
        pass


class RecordingTransport(LocalTransport):
    def __init__(self, bus: LocalBus, down: bool = False):
        super().__init__(bus)
        self.recording = RecordingBus(bus, down)

    def publisher(self):
        return self.recording


def withdrawn() -> CaseWithdrawn:
    return CaseWithdrawn(case_id=str(uuid.uuid4()), case_no="2026-11-000001", at=datetime.now(UTC))


def test_a_handlers_events_are_published_at_once_after_the_batch_commits_in_a_quiet_system(parts):
    """Embedded mode, end to end: consumer, handler, relay, bus (safety poll 30 s). The wake-up fired by a
    SAVEPOINT's release rather than the real COMMIT is caught on PostgreSQL (tests/e2e/test_faults_mended.py):
    SQLite's lock makes a relay woken early wait for the COMMIT anyway."""
    settings, bus = parts
    handled: dict[str, float] = {}
    emitted: dict[str, str] = {}

    def on_withdrawn(ctx, event) -> None:
        handled[ctx.envelope.id] = time.monotonic()
        emitted[ctx.envelope.id] = ctx.emit(CaseDispatched(
            case_id=event.case_id, case_no=event.case_no, work_order_id="wo-1", seq=1, unit_id="u-1",
            unit_code="510107001001001", unit_name="第一网格", unit_level="grid", rule="属地派单",
            at=event.at)).id

    spec = ServiceSpec(name="mediation", title="t", description="t", metadata=metadata, outbox=outbox, inbox=inbox,
                       auth=auth, audit=audit, router=APIRouter(),
                       handlers=lambda rt: {"intake.case.withdrawn.v1": on_withdrawn})
    rt = spec.runtime(settings, f"sqlite:///{settings.var_dir / 'm.sqlite'}")
    metadata.create_all(rt.engine)
    transport = RecordingTransport(bus)
    worker = Worker(spec, rt, transport)
    worker.start()
    try:
        latencies = []
        for _ in range(3):  # one at a time, each into a quiet system
            time.sleep(0.3)
            env = envelope_for(withdrawn())
            bus.publish_batch([OutgoingMessage(env.id, env.routing_key, env.to_bytes())])
            deadline = time.monotonic() + 5.0
            while emitted.get(env.id) not in transport.recording.published_at and time.monotonic() < deadline:
                time.sleep(0.002)
            assert emitted.get(env.id) in transport.recording.published_at, "the event waited for the safety poll"
            latencies.append(transport.recording.published_at[emitted[env.id]] - handled[env.id])
        # Measured from the handler's start, so it includes the batch's commit: typically a few ms.
        assert max(latencies) < 1.0, latencies
    finally:
        worker.stop()
        rt.dispose()


def test_a_stop_takes_at_most_the_drain_budget_even_with_a_thread_stuck(parts):
    """A consumer stuck connecting to a broker that does not answer (and the publisher's close waiting on it)
    held a worker's stop for 10-20 s."""
    settings, bus = parts
    started = threading.Event()

    def stuck(rt, stop):
        started.set()
        time.sleep(60)  # deaf to `stop`, like a blocking AMQP handshake

    class StuckPublisher(RecordingBus):
        def close(self):
            time.sleep(60)

    class Stuck(LocalTransport):
        def publisher(self):
            return StuckPublisher(self.bus)

    spec = spec_with(stuck)
    rt = spec.runtime(settings, f"sqlite:///{settings.var_dir / 'm.sqlite'}")
    metadata.create_all(rt.engine)
    worker = Worker(spec, rt, Stuck(bus))
    worker.start()
    assert started.wait(5)
    begun = time.monotonic()
    worker.stop()
    assert time.monotonic() - begun < DRAIN_SECONDS + 1.0
    # Everything else finished what it held and stopped; only the stuck thread is left to the process exit.
    assert [t.name for t in worker.threads if t.is_alive()] == ["background-mediation"]
    rt.dispose()


def probe(port: int, path: str) -> tuple[int, dict]:
    r = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    return r.status_code, r.json()


def test_a_worker_is_ready_only_while_it_can_publish_and_alive_all_the_same(parts):
    settings, bus = parts
    spec = spec_with(None)
    rt = spec.runtime(settings, f"sqlite:///{settings.var_dir / 'm.sqlite'}")
    metadata.create_all(rt.engine)
    transport = RecordingTransport(bus, down=True)
    worker = Worker(spec, rt, transport)
    assert worker.readiness()[1]["threads"] == "not started"
    worker.start()
    server = serve_health(worker, "127.0.0.1:0")
    port = server.server_address[1]
    try:
        with rt.uow() as session:  # something to publish while the broker is away
            rt.outbox.emit(session, withdrawn())
        deadline = time.monotonic() + 5
        while probe(port, "/readyz")[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        status, body = probe(port, "/readyz")
        assert status == 503 and body["checks"]["relay"] == "failing: PublishError", body
        assert body["checks"]["database"] == "ok" and body["checks"]["threads"] == "ok"
        assert probe(port, "/healthz")[0] == 200  # alive: nothing a restart would mend

        transport.recording.down = False  # the broker is back
        deadline = time.monotonic() + 3
        while probe(port, "/readyz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        status, body = probe(port, "/readyz")
        assert status == 200 and body == {"status": "ready", "checks": {"threads": "ok", "database": "ok",
                                                                        "relay": "ok"},
                                          "service": "mediation", "role": "worker"}
        worker.stop()
        assert probe(port, "/readyz")[0] == 503 and probe(port, "/healthz")[0] == 503
    finally:
        worker.stop()
        server.shutdown()
        server.server_close()
        rt.dispose()
