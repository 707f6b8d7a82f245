"""The persistence side of the messaging promises, on a real PostgreSQL server."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import MetaData, inspect, select

from services import spec
from services.intake.submission import next_case_no
from shared.db import make_engine, session_factory, unit_of_work, utcnow
from shared.events.intake import CaseSubmitted
from shared.messaging.dispatcher import Dispatcher, Outcome
from shared.messaging.outbox import Outbox, notify_channel, signal_relay_after_commit
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables
from shared.messaging.wakeup import PgNotifier, PgWakeup
from shared.migrate import upgrade

pytestmark = pytest.mark.postgres


def payload(n: int = 1) -> CaseSubmitted:
    return CaseSubmitted(case_id=f"case-{n}", case_no=f"2026-11-{n:06d}", category="env.garbage",
                         channel="app", submitted_at=utcnow())


@pytest.fixture
def messaging_db(pg_database):
    metadata = MetaData()
    outbox_table, inbox_table = messaging_tables(metadata)
    engine = make_engine(pg_database)
    metadata.create_all(engine)
    yield engine, outbox_table, inbox_table
    engine.dispose()


class Recorder:
    """A publisher that keeps what it was given (stands in for the broker here)."""

    def __init__(self):
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def publish_batch(self, messages):
        time.sleep(0.01)  # long enough for relays to overlap
        with self.lock:
            self.ids.extend(m.message_id for m in messages)
        return [None] * len(messages)

    def close(self):
        pass


def test_every_service_migrates_on_postgresql(pg_databases):
    for name in ("intake", "routing", "mediation", "notify"):
        url = pg_databases()
        upgrade(name, url)
        upgrade(name, url)  # a second run is a no-op
        engine = make_engine(url)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
        assert {"outbox", "inbox"} <= tables
        assert set(spec(name).metadata.tables) <= tables


def test_commit_wakes_the_relay_through_listen_notify_and_rollback_does_not(messaging_db, pg_database):
    engine, outbox_table, _ = messaging_db
    factory = session_factory(engine)
    signal_relay_after_commit(factory)
    committed = threading.Event()
    outbox = Outbox(outbox_table, "t", committed)
    stop = threading.Event()
    PgNotifier(pg_database, notify_channel("t"), committed).start(stop)
    wake = PgWakeup(pg_database, notify_channel("t"))
    wake.clear()  # connects and LISTENs
    try:
        session = factory()
        outbox.emit(session, payload())
        session.rollback()
        session.close()
        started = time.monotonic()
        wake.wait(1.0)
        assert time.monotonic() - started >= 0.9  # nothing committed, nothing woke it

        with unit_of_work(factory) as session:
            outbox.emit(session, payload())
        started = time.monotonic()
        wake.wait(10.0)
        assert time.monotonic() - started < 5.0
    finally:
        stop.set()
        wake.close()


def test_two_relays_share_one_outbox_and_publish_each_row_once(messaging_db):
    engine, outbox_table, _ = messaging_db
    factory = session_factory(engine)
    outbox = Outbox(outbox_table, "t")
    with unit_of_work(factory) as session:
        for n in range(400):
            outbox.emit(session, payload(n))
    recorder = Recorder()
    relays = [OutboxRelay(engine, outbox_table, recorder, wakeup=None, batch=25) for _ in range(2)]

    def drain(relay):
        while relay.publish_pending():
            pass

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(drain, relays))
    assert len(recorder.ids) == 400 and len(set(recorder.ids)) == 400
    assert all(r.published > 0 for r in relays)  # both took a share
    with engine.connect() as conn:
        assert conn.execute(select(outbox_table)).first() is None


def test_a_message_delivered_twice_at_once_has_its_effect_once(messaging_db):
    engine, outbox_table, inbox_table = messaging_db
    factory = session_factory(engine)
    effects = []

    def handler(ctx, event):
        time.sleep(0.2)  # both deliveries are inside the handler together
        effects.append(event.case_id)

    dispatcher = Dispatcher("t", factory, inbox_table, Outbox(outbox_table, "t"),
                            {"intake.case.submitted.v1": handler})
    from shared.events import envelope_for

    body = envelope_for(payload()).to_bytes()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(dispatcher.handle, [body, body]))
    # One committed; the other either saw the inbox row or lost the race and will be retried,
    # and its retry finds the row.
    assert sorted(r.outcome.value for r in results) in (["ack", "ack"], ["ack", "retry"])
    assert dispatcher.handle(body).reason == "duplicate delivery"
    with engine.connect() as conn:
        assert len(conn.execute(select(inbox_table)).all()) == 1
    assert Outcome.ACK in [r.outcome for r in results]


def test_case_numbers_stay_unique_under_concurrent_submissions(pg_database):
    upgrade("intake", pg_database)
    engine = make_engine(pg_database)
    factory = session_factory(engine)

    def one(_):
        with unit_of_work(factory) as session:
            return next_case_no(session, utcnow())

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(one, range(200)))
    engine.dispose()
    assert len(set(numbers)) == 200
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 201))
