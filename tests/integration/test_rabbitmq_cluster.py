"""The services on a three-node RabbitMQ cluster (deploy/rabbitmq-cluster.sh, issue 14): under a steady load one
node is stopped and later started again; every accepted case still reaches its work order once, every resident
is told once, and the consumers that were on the stopped node carry on from the surviving ones.

The cluster runs beside the machine's own broker (ports 5701-5703), which is never stopped. A cluster that is
already up (`make rabbit-cluster-up`) is used and left up; one this test starts, it removes.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from services.cluster import Cluster, free_port, http_ok, wait_for
from shared.config import SERVICES, get_settings
from shared.messaging.topology import TOPOLOGY
from shared.web import amqp_reachable

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "rabbitmq-cluster.sh"
PORTS = {"c1": 5701, "c2": 5702, "c3": 5703}
RATE, SECONDS = 10, 20  # cases per second, for how long
SENDERS = 6  # requests in flight at most: a submission takes 50-400 ms on two busy cores
STOP_AT, START_AT = 5.0, 13.0  # seconds into the load
# inside 玉林北路社区第二网格 (510107001001002)
GRID_POINT = {"lat": 30.6336, "lon": 104.052087, "coord_system": "wgs84"}


def nodename(node: str) -> str:
    return f"rabbit-{node}@localhost"


def ctl(node: str, *args: str, timeout: float = 60) -> str:
    """rabbitmqctl against one node of the test cluster only (never the machine's default node)."""
    done = subprocess.run(["rabbitmqctl", "-q", "-n", nodename(node), *args], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"rabbitmqctl {' '.join(args)} on {node}: {done.stderr or done.stdout}"
    return done.stdout


def require_rabbitmq_server() -> None:
    missing = None
    if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
        missing = "rabbitmq-server is not installed (deploy/rabbitmq-cluster.sh starts three nodes of it)"
    elif os.geteuid() != 0:
        missing = "the RabbitMQ nodes run as the rabbitmq user: run this test as root"
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing}, and CI=true requires it", pytrace=False)
    pytest.skip(missing)


def consumers_by_node(vhost: str, asking: str = "c1") -> dict[str, str]:
    """queue -> the node its consumer's channel lives on (the pid names the node); {} while the cluster cannot
    say (a queue electing its leader)."""
    try:
        out = ctl(asking, "list_consumers", "-p", vhost, "queue_name", "channel_pid", "--no-table-headers",
                  timeout=20)
    except (AssertionError, subprocess.TimeoutExpired):
        return {}
    found = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            queue, pid = parts
            found[queue] = next((n for n in PORTS if nodename(n) in pid), pid)
    return found


class Readiness:
    """Polls every worker's /readyz; notes, per worker, when its broker check failed and when it was ok again."""

    def __init__(self, probes: dict[str, int]):
        self.probes = probes
        self.down_since: dict[str, float] = {}
        self.outages: dict[str, list[tuple[float, float]]] = {name: [] for name in probes}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(timeout=2) as client:
            while not self.stop.wait(0.05):
                for name, port in self.probes.items():
                    try:
                        broker = client.get(f"http://127.0.0.1:{port}/readyz").json()["checks"].get("broker")
                    except (httpx.HTTPError, ValueError, KeyError):
                        broker = "unanswered"
                    now = time.monotonic()
                    if broker != "ok":
                        self.down_since.setdefault(name, now)
                    elif name in self.down_since:
                        self.outages[name].append((self.down_since.pop(name), now))


@pytest.fixture
def rabbit_cluster():
    """The `up` of deploy/rabbitmq-cluster.sh under way (None when the cluster was already up); a cluster started
    here is removed afterwards."""
    require_rabbitmq_server()
    already_up = all(amqp_reachable(f"amqp://127.0.0.1:{port}") for port in PORTS.values())
    starting = None if already_up else subprocess.Popen(["bash", str(SCRIPT), "up"], stdout=subprocess.PIPE,
                                                        stderr=subprocess.STDOUT, text=True)
    try:
        yield starting
    finally:
        if starting is not None:
            starting.wait(timeout=180)
            subprocess.run(["bash", str(SCRIPT), "down"], capture_output=True, timeout=120)


@pytest.mark.e2e
@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_the_services_lose_and_repeat_nothing_while_a_cluster_node_stops_and_returns_under_load(
        rabbit_cluster, pg_url, tmp_path):
    cluster = Cluster(pg_url, "amqp://guest:guest@127.0.0.1:5701/%2F", tmp_path / "logs", tag="rmqc")
    probes = {name: free_port() for name in SERVICES}
    vhost = cluster.vhost
    figures: dict = {}
    phases: dict[str, float] = {}
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 1)
        mark = now

    try:
        # PostgreSQL's part and the APIs while the nodes boot: the APIs need no broker.
        cluster.run("-m", "shared.migrate")
        cluster.run("-m", "services", "seed")
        for name in SERVICES:
            cluster.start(name, "api")
        if rabbit_cluster is not None:
            output, _ = rabbit_cluster.communicate(timeout=180)
            assert rabbit_cluster.returncode == 0, output
        phase("migrations_seed_apis_and_cluster_up_s")
        running = ctl("c1", "cluster_status", "--formatter", "json")
        assert set(json.loads(running)["running_nodes"]) == {nodename(n) for n in PORTS}
        ctl("c1", "add_vhost", vhost)
        ctl("c1", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        urls = [f"amqp://guest:guest@127.0.0.1:{port}/{vhost}" for port in PORTS.values()]
        cluster.env.update({"CG_AMQP_URLS": ",".join(urls), "CG_AMQP_URL": urls[0]})
        for name in SERVICES:
            cluster.env["CG_WORKER_HEALTH_ADDRESS"] = f"127.0.0.1:{probes[name]}"
            cluster.start(name, "worker")
        for name in SERVICES:
            wait_for(lambda n=name: http_ok(f"{cluster.url(n)}/{n}/readyz"), timeout=120, what=f"{name} API ready")
            wait_for(lambda n=name: http_ok(f"http://127.0.0.1:{probes[n]}/readyz"), timeout=120,
                     what=f"{name} worker ready")
        phase("workers_ready_s")
        queues = {q.name for q in TOPOLOGY.queues if q.service in SERVICES}
        before = consumers_by_node(vhost)
        assert set(before) == queues, before
        # Every queue the services declared (main, retry, dead-letter) is a quorum queue on all three nodes.
        declared = [line.split("\t") for line in ctl("c1", "list_queues", "-p", vhost, "name", "type", "members",
                                                        "--no-table-headers").splitlines() if line.strip()]
        assert {name for name, _, _ in declared} >= queues
        assert all(kind == "quorum" and all(nodename(n) in members for n in PORTS)
                   for _, kind, members in declared), declared
        # The node with the most consumers goes: the connections spread over the nodes, so it has some.
        victim = Counter(before.values()).most_common(1)[0][0]
        survivor = next(n for n in PORTS if n != victim)
        moved = sorted(q for q, n in before.items() if n == victim)

        readiness = Readiness(probes)
        readiness.thread.start()
        token = cluster.token("resident")
        accepted, refused = [], []

        client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10,
                              limits=httpx.Limits(max_connections=SENDERS))

        def submit(i: int) -> None:
            time.sleep(max(0.0, began + i / RATE - time.monotonic()))
            r = client.post(f"{cluster.url('intake')}/intake/v1/cases",
                            json={"category": "env.garbage", "description": f"小区门口垃圾没人清运 {i}", **GRID_POINT})
            if r.status_code == 201:
                accepted.append(r.json()["id"])
            else:
                refused.append(r.status_code)

        def load() -> None:
            with ThreadPoolExecutor(SENDERS) as pool:
                list(pool.map(submit, range(RATE * SECONDS)))

        loader = threading.Thread(target=load, daemon=True)
        began = time.monotonic()
        loader.start()
        time.sleep(max(0.0, began + STOP_AT - time.monotonic()))
        stopped_at = time.monotonic()
        ctl(victim, "stop_app")
        # The moved consumers are back, on the nodes that are left.
        wait_for(lambda: (c := consumers_by_node(vhost, survivor)) and set(c) == queues and victim not in c.values(),
                 timeout=30, what="every queue consumed from a surviving node", interval=0.2)
        consumers_back = time.monotonic() - stopped_at
        time.sleep(max(0.0, began + START_AT - time.monotonic()))
        ctl(victim, "start_app")
        loader.join(SECONDS + 60)
        assert not loader.is_alive()
        client.close()
        load_seconds = time.monotonic() - began
        phase("load_s")

        ids = list(accepted)
        routing_db = cluster.database_url("routing").replace("postgresql+psycopg://", "postgresql://")
        notify_db = cluster.database_url("notify").replace("postgresql+psycopg://", "postgresql://")
        resident = next(u["id"] for u in json.loads((get_settings().demo_dir / "users.json").read_text("utf-8"))
                        if u["role"] == "resident")

        import psycopg

        def work_orders() -> dict[str, int]:
            with psycopg.connect(routing_db) as conn:
                return dict(conn.execute(
                    "SELECT case_id, count(*) FROM work_orders WHERE role = 'lead' AND case_id = ANY(%s) "
                    "GROUP BY case_id", (ids,)).fetchall())

        def told() -> int:
            """Cases whose resident has both the 受理 and the 派单 message in the inbox."""
            with psycopg.connect(notify_db) as conn:
                return conn.execute(
                    "SELECT count(*) FROM (SELECT subject_id FROM messages WHERE channel = 'inbox' AND "
                    "recipient_id = %s AND subject_id = ANY(%s) AND title IN ('诉求已受理', '诉求已派单') "
                    "GROUP BY subject_id HAVING count(DISTINCT title) = 2) t", (resident, ids)).fetchone()[0]

        drained_from = time.monotonic()
        wait_for(lambda: len(work_orders()) == len(ids), timeout=60, what="a work order for every accepted case",
                 interval=0.5)
        wait_for(lambda: told() == len(ids), timeout=60, what="every resident told", interval=0.5)
        drained = time.monotonic() - drained_from
        phase("drain_s")
        orders = work_orders()
        with psycopg.connect(notify_db) as conn:
            repeated_notifications = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM messages WHERE subject_id = ANY(%s) "
                "GROUP BY subject_id, recipient_id, channel, template HAVING count(*) > 1) t", (ids,)).fetchone()[0]
        readiness.stop.set()
        readiness.thread.join(5)
        outages = {name: round(max(end - start for start, end in spans), 2)
                   for name, spans in readiness.outages.items() if spans}

        figures = {"cases_submitted": RATE * SECONDS, "accepted": len(ids), "refused": refused,
                   "lost": len(ids) - len(orders), "duplicate_work_orders": sum(n - 1 for n in orders.values()),
                   "duplicate_notifications": repeated_notifications, "stopped_node": nodename(victim),
                   "consumers_moved": moved, "consumers_back_within_s": round(consumers_back, 2),
                   "worker_broker_outage_s": outages, "drained_after_load_s": round(drained, 2),
                   "load_s": round(load_seconds, 1), "phases": phases}

        assert len(ids) == RATE * SECONDS, refused  # the APIs accept while a node is away: the outbox holds
        assert figures["lost"] == 0
        assert figures["duplicate_work_orders"] == 0
        assert repeated_notifications == 0
        # Each worker whose consumer was on the stopped node noticed, and was connected again within seconds.
        assert {TOPOLOGY.queue(q).service for q in moved} <= set(outages), (moved, outages)
        assert max(outages.values()) < 10, outages
        running = json.loads(ctl("c1", "cluster_status", "--formatter", "json"))["running_nodes"]
        assert nodename(victim) in running  # and the node came back into the cluster
    finally:
        sys.stdout.write(json.dumps(figures, ensure_ascii=False) + "\n")
        try:
            cluster.close()
        finally:
            if shutil.which("rabbitmqctl") and any(amqp_reachable(f"amqp://127.0.0.1:{p}") for p in PORTS.values()):
                subprocess.run(["rabbitmqctl", "-q", "-n", nodename("c1"), "delete_vhost", vhost],
                               capture_output=True, timeout=60)
        phase("teardown_s")
        sys.stdout.write(f"phases: {json.dumps(phases)}\n")
        sys.stderr.write(cluster.logs())


@pytest.mark.rabbitmq
def test_a_connection_passes_over_a_node_that_refuses_to_the_next(rabbitmq_url):
    """Without a cluster: a first address where nothing listens, then the machine's broker."""
    from urllib.parse import urlparse

    from shared.messaging.amqp import Brokers

    refusing = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    brokers = Brokers([refusing, rabbitmq_url])
    for _ in range(3):  # whichever node it starts at
        connection, params = brokers.connect()
        try:
            assert connection.is_open and params.port == (urlparse(rabbitmq_url).port or 5672)
        finally:
            connection.close()


def test_the_broker_addresses_are_the_cluster_list_or_the_single_url():
    single = get_settings(amqp_url="amqp://guest:guest@mq.example:5672/%2F")
    assert single.broker_urls == ["amqp://guest:guest@mq.example:5672/%2F"]
    listed = get_settings(amqp_urls=" amqp://a:5701/v , amqp://b:5702/v,,")
    assert listed.broker_urls == ["amqp://a:5701/v", "amqp://b:5702/v"]

