"""A service's worker (relay, consumers, background work) starts the same way in both modes and
stops at once: no thread sleeps out its timeout."""

import threading
import time

import pytest
from fastapi import APIRouter
from sqlalchemy import MetaData

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.config import get_settings
from shared.messaging.local_bus import LocalBus
from shared.messaging.tables import messaging_tables
from shared.service import ServiceSpec
from shared.worker import LocalTransport, Worker

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
