"""PostgreSQL restarted under load (issue 14): services mode (every service's API and worker, real RabbitMQ)
on a PRIVATE PostgreSQL instance made for this test (initdb into a temporary folder, its own port and socket
folder), so the machine's PostgreSQL, which other tests share, is never touched. A resident submits ~10
cases a second, retrying on 503 with the same Idempotency-Key; midway PostgreSQL is stopped (fast
shutdown), left down for 3 s and started again.

What it proves: during the outage every request is answered at once with 503 service.database_unavailable
and Retry-After (never a 500, never a hang); once PostgreSQL is back requests succeed within seconds; every
accepted case reaches routing as exactly one lead work order (nothing lost, nothing twice), and nothing was
dead-lettered on the way.

The faster tests before it cut the connections of a private database on the machine's PostgreSQL with a TCP
proxy in front of it (tests/e2e/tcp_proxy.py), which the server itself never notices."""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pika
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Column, MetaData, String, Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from services.cluster import Cluster, free_port, wait_for
from shared.config import get_settings
from shared.db import database_unavailable, make_engine
from shared.deps import SessionDep
from shared.events import envelope_for
from shared.events.intake import CaseSubmitted
from shared.messaging.amqp import AmqpConsumer, AmqpPublisher
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.publisher import OutgoingMessage
from shared.messaging.tables import messaging_tables
from shared.messaging.topology import TOPOLOGY
from shared.runtime import build_runtime
from shared.web import create_app
from tests.e2e.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.rabbitmq, pytest.mark.postgres]

PG_BIN = Path(os.environ.get("CG_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
# inside 玉林北路社区第二网格 (510107001001002)
GRID_POINT = {"lat": 30.6336, "lon": 104.052087, "coord_system": "wgs84"}
RATE = 10.0  # cases offered per second
BEFORE, DOWN, AFTER = 6.0, 3.0, 8.0  # seconds of load before the stop, of outage, of load after the start


metadata = MetaData()
outbox, inbox = messaging_tables(metadata)
effects = Table("effects", metadata, Column("message_id", String(36)), Column("case_no", String(40)))


@pytest.fixture
def proxied(pg_database):
    """A fresh database on the machine's PostgreSQL, reached through a TCP proxy: `proxy.down()` refuses
    connections and cuts every open one, as a stopped server does; `proxy.up()` lets them through again."""
    direct = make_url(pg_database)
    proxy = TcpProxy((direct.host or "127.0.0.1", direct.port or 5432)).up()
    engine = make_engine(pg_database)
    metadata.create_all(engine)
    engine.dispose()
    try:
        yield proxy, direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.close()


def timed(call):
    began = time.monotonic()
    result = call()
    return result, time.monotonic() - began


def test_a_request_meeting_a_dropped_connection_answers_503_at_once_and_its_retry_gets_a_fresh_one(
        proxied, tmp_path):
    proxy, url = proxied
    rt = build_runtime("pgfaults", get_settings(var_dir=tmp_path), outbox, inbox, url=url)
    router = APIRouter()

    @router.get("/v1/probe")
    def probe(session: SessionDep) -> dict:
        return {"one": session.execute(text("SELECT 1")).scalar_one()}

    client = TestClient(create_app(rt, title="t", description="t", router=router), raise_server_exceptions=False)
    try:
        held = [rt.engine.connect() for _ in range(3)]  # three connections in the pool, all about to die
        for conn in held:
            conn.execute(text("SELECT 1"))
            conn.close()
        assert client.get("/pgfaults/v1/probe").status_code == 200
        proxy.down()  # PostgreSQL restarts: every connection is cut ...
        proxy.up()  # ... and it accepts new ones again

        r, took = timed(lambda: client.get("/pgfaults/v1/probe"))
        assert r.status_code == 503 and took < 1.0
        assert r.headers["retry-after"] == "1"
        assert r.json()["error"] == {"code": "service.database_unavailable", "field": None,
                                     "message": "服务暂时不可用（数据库连接中断），请稍后重试"}
        # The disconnect retired the whole pool: the other two dead connections are not handed out.
        for _ in range(3):
            assert client.get("/pgfaults/v1/probe").status_code == 200

        proxy.down()  # and while it stays down, every request is refused at once, not after a TCP timeout
        for _ in range(3):
            r, took = timed(lambda: client.get("/pgfaults/v1/probe", headers={"Accept-Language": "en"}))
            assert r.status_code == 503 and took < 2.5, took
            assert r.json()["error"]["message"].startswith("The service's database cannot be reached")
        proxy.up()
        assert client.get("/pgfaults/v1/probe").status_code == 200
    finally:
        rt.dispose()


def test_a_statements_own_error_is_no_outage_and_stays_a_500(pg_database, tmp_path):
    rt = build_runtime("pgfaults", get_settings(var_dir=tmp_path), outbox, inbox, url=pg_database)
    router = APIRouter()

    @router.get("/v1/broken")
    def broken(session: SessionDep) -> dict:
        return {"rows": session.execute(text("SELECT * FROM no_such_table")).all()}

    client = TestClient(create_app(rt, title="t", description="t", router=router), raise_server_exceptions=False)
    try:
        assert client.get("/pgfaults/v1/broken").status_code == 500
    finally:
        rt.dispose()
    # SQLite's "database is locked" is an OperationalError too, and no outage either.
    path = tmp_path / "locked.sqlite"
    with sqlite3.connect(path, timeout=0, isolation_level=None) as first, sqlite3.connect(path, timeout=0) as second:
        first.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked") as locked:
            second.execute("BEGIN IMMEDIATE")
        first.execute("ROLLBACK")
    assert not database_unavailable(OperationalError("BEGIN IMMEDIATE", None, locked.value))


@pytest.mark.rabbitmq
def test_a_consumer_holds_its_batch_while_the_database_is_away_and_handles_it_once_when_it_returns(
        proxied, rabbitmq_url, topology, tmp_path):
    """The private queue retries after 100 and 200 ms and then dead-letters: a batch that failed on the
    database as a handler failure would be in the DLQ within a second. Held, it waits for the database."""
    proxy, url = proxied
    rt = build_runtime("pgfaults", get_settings(var_dir=tmp_path), outbox, inbox, url=url)

    def record(ctx, event):
        ctx.session.execute(insert(effects).values(message_id=ctx.envelope.id, case_no=event.case_no))

    queue = topology.queues[0]
    consumer = AmqpConsumer(rabbitmq_url, queue, Dispatcher("pgfaults", rt.sessions, inbox, rt.outbox,
                                                            {"intake.case.submitted.v1": record}), topology)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    publisher = AmqpPublisher(rabbitmq_url, topology)

    def handled() -> list[str]:
        with rt.engine.connect() as conn:
            return conn.execute(select(effects.c.case_no).order_by(effects.c.case_no)).scalars().all()

    def waiting(name: str) -> int:
        with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
            return conn.channel().queue_declare(name, passive=True).method.message_count

    def submitted(case_no: str) -> OutgoingMessage:
        env = envelope_for(CaseSubmitted(case_id=str(uuid.uuid4()), case_no=case_no, category="噪音扰民",
                                         channel="app", submitted_at=datetime.now(UTC)))
        return OutgoingMessage(env.id, env.routing_key, env.to_bytes())

    thread.start()
    try:
        assert consumer.connected.wait(10)
        assert publisher.publish_batch([submitted("A")]) == [None]
        assert wait_for(lambda: handled() == ["A"], timeout=5, what="A handled")
        proxy.down()
        assert publisher.publish_batch([submitted("B"), submitted("C")]) == [None, None]
        time.sleep(3.0)  # the old retries would have dead-lettered B and C by now
        assert waiting(queue.dlq) == 0
        assert all(waiting(queue.retry_queue(n)) == 0 for n in range(1, queue.max_attempts))
        assert consumer.connected.is_set() and thread.is_alive()
        proxy.up()
        back = time.monotonic()
        wait_for(lambda: handled() == ["A", "B", "C"], timeout=5, what="B and C handled", interval=0.05)
        print(f"held batch handled {time.monotonic() - back:.2f}s after the database's return")
        time.sleep(0.5)
        assert handled() == ["A", "B", "C"] and waiting(queue.dlq) == 0 and waiting(queue.name) == 0
        with rt.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(inbox)).scalar_one() == 3
    finally:
        publisher.close()
        stop.set()
        thread.join(5)
        rt.dispose()


class PrivatePostgres:
    """A throw-away PostgreSQL server: its data, socket and log in one temporary folder, on its own port."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="cg-pg-restart-"))
        self.data = self.dir / "data"
        self.port = free_port()
        # initdb and postgres refuse to run as root; the folder must belong to the user they run as.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o700)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self._as, str(PG_BIN / tool), *args], check=True, capture_output=True, timeout=timeout)

    def init(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        return self

    def start(self) -> None:
        # fsync off: a throw-away instance whose every stop is a clean shutdown; the two cores are shared.
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=400 "
                   "-c fsync=off -c shared_buffers=64MB")
        self._run("pg_ctl", "start", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.dir / "server.log"),
                  "-o", options, timeout=90)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-w", "-m", mode, timeout=90)

    def log(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def private_pg():
    missing = [tool for tool in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / tool).exists()]
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        missing.append("runuser and a postgres user (PostgreSQL refuses to run as root)")
    if missing:
        reason = f"PostgreSQL server binaries missing in {PG_BIN}: {', '.join(missing)} (CG_TEST_PG_BIN names another)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI=true requires them", pytrace=False)
        pytest.skip(reason)
    pg = PrivatePostgres()
    try:
        pg.init().start()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def cluster(private_pg, rabbitmq_url, tmp_path):
    c = Cluster(private_pg.url, rabbitmq_url, tmp_path, tag="pgrestart")
    try:
        yield c.up()
    finally:
        c.close()
        sys.stderr.write(c.logs() + "\n--- postgres\n" + private_pg.log())  # shown when the test failed


@dataclass
class Attempt:
    sent: float  # monotonic
    latency: float
    status: int | str  # HTTP status, or the client error's name
    code: str | None = None  # the error's code


class Resident:
    """Submits cases, each with its own Idempotency-Key kept across retries; retries on 503 after Retry-After."""

    def __init__(self, cluster: Cluster, run: str):
        self.url = f"{cluster.url('intake')}/intake/v1/cases"
        self.headers = {"Authorization": f"Bearer {cluster.token('resident')}"}
        self.run = run
        self.attempts: list[Attempt] = []
        self.accepted: dict[str, str] = {}  # idempotency key → case id
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: list[httpx.Client] = []

    def _client(self) -> httpx.Client:
        if not hasattr(self._local, "client"):
            self._local.client = httpx.Client(timeout=15)
            with self._lock:
                self._clients.append(self._local.client)
        return self._local.client

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def submit(self, n: int) -> None:
        key = str(uuid.uuid4())
        body = {"category": "env.garbage", "description": f"玉林北路小区门口垃圾三天没人清运（{self.run}-{n}）",
                **GRID_POINT}
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            sent = time.monotonic()
            try:
                r = self._client().post(self.url, json=body, headers={**self.headers, "Idempotency-Key": key})
                status: int | str = r.status_code
            except httpx.HTTPError as exc:
                r, status = None, type(exc).__name__
            code = r.json().get("error", {}).get("code") if r is not None and status == 503 else None
            with self._lock:
                self.attempts.append(Attempt(sent, time.monotonic() - sent, status, code))
            if status in (200, 201):  # 200: a retry of a submission whose 201 was lost
                with self._lock:
                    self.accepted[key] = r.json()["id"]
                return
            if status != 503:
                with self._lock:
                    self.refused.append(f"{status}: {r.text[:300] if r is not None else ''}")
                return
            time.sleep(float(r.headers.get("retry-after", "1")) if r is not None else 1.0)
        with self._lock:
            self.refused.append(f"{key}: not accepted within 60 s")


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def dsn(cluster: Cluster, service: str) -> str:
    return cluster.database_url(service).replace("postgresql+psycopg://", "postgresql://")


def test_a_postgresql_restart_under_load_answers_fast_503s_then_recovers_losing_and_repeating_nothing(
        cluster, private_pg):
    import psycopg

    with psycopg.connect(dsn(cluster, "intake")) as conn:
        cases_before = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    resident = Resident(cluster, uuid.uuid4().hex[:6])
    outage: dict[str, float] = {}

    def restart() -> None:
        time.sleep(BEFORE)
        outage["stop"] = time.monotonic()
        private_pg.stop("fast")  # every backend ends: the pools hold dead connections now
        outage["down"] = time.monotonic()
        time.sleep(DOWN)
        private_pg.start()  # returns once it accepts connections
        outage["up"] = time.monotonic()

    restarter = threading.Thread(target=restart, name="pg-restart")
    total = int((BEFORE + DOWN + AFTER) * RATE)
    start = time.monotonic()
    restarter.start()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            time.sleep(max(0.0, start + n / RATE - time.monotonic()))
            pool.submit(resident.submit, n)
    restarter.join()
    resident.close()

    statuses = {a.status for a in resident.attempts}
    failed = [a for a in resident.attempts if a.status == 503]
    up = outage["up"]
    before = [a.latency for a in resident.attempts if a.sent + a.latency < outage["stop"]]
    first_success_after = min(a.sent + a.latency for a in resident.attempts
                              if a.status in (200, 201) and a.sent >= up)
    # service.busy after the return is the API's admission bound meeting the backlog of retries, not the database.
    late_503 = [a for a in failed if a.sent > up + 5 and a.code == "service.database_unavailable"]
    print(f"\nPostgreSQL down {up - outage['stop']:.1f}s; {len(resident.attempts)} requests for {total} cases; "
          f"{len(failed)} answered 503 {dict(Counter(a.code for a in failed))}, p99 "
          f"{p99([a.latency for a in failed]) * 1000:.0f} ms, max {max(a.latency for a in failed) * 1000:.0f} ms; "
          f"first success {first_success_after - up:.2f}s after PostgreSQL accepted connections; statuses "
          f"{sorted(map(str, statuses))}; before the stop p99 {p99(before) * 1000:.0f} ms")

    assert statuses <= {200, 201, 503}, f"answers other than success or 503: {statuses}"
    assert not resident.refused, resident.refused[:5]
    assert failed, "the restart never reached a request: it proves nothing"
    # service.busy: the API's admission bound (shared/admission.py), also a fast 503 to retry.
    assert "service.database_unavailable" in {a.code for a in failed}
    assert {a.code for a in failed} <= {"service.database_unavailable", "service.busy"}
    assert p99([a.latency for a in failed]) < 3.0, "503s must be fast, not a hang"
    assert first_success_after - up < 5.0
    assert not late_503, f"{len(late_503)} requests still refused for the database 5 s after it was back"

    # Every accepted case becomes exactly one lead work order in routing, and each key one case in intake.
    case_ids = list(resident.accepted.values())
    assert len(case_ids) == total and len(set(case_ids)) == total

    def lead_orders() -> dict[str, int]:
        with psycopg.connect(dsn(cluster, "routing")) as conn:
            return dict(conn.execute(
                "SELECT case_id::text, count(*) FROM work_orders WHERE role = 'lead' AND case_id::text = ANY(%s) "
                "GROUP BY case_id", (case_ids,)).fetchall())

    waited = time.monotonic()
    orders = wait_for(lambda: (o := lead_orders()) and len(o) == total and o, timeout=60,
                      what="a work order for every accepted case")
    print(f"work orders for all {total} cases {time.monotonic() - waited:.1f}s after the load ended")
    assert set(orders.values()) == {1}, "a case dispatched twice"
    with psycopg.connect(dsn(cluster, "intake")) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] - cases_before == total

    # Nothing was given up on: the consumers held their batches while the database was away.
    with pika.BlockingConnection(pika.URLParameters(cluster.env["CG_AMQP_URL"])) as conn:
        channel = conn.channel()
        dead = {q.dlq: channel.queue_declare(q.dlq, passive=True).method.message_count for q in TOPOLOGY.queues}
    assert not any(dead.values()), dead
