"""Fixtures for the real servers.

Tests that need RabbitMQ or PostgreSQL skip with the reason when the server is not
reachable, except under CI=true, where an unreachable server fails the test instead.
"""

import os
import socket
import uuid

import pytest

RABBITMQ_URL = os.environ.get("CG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("CG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_URL = os.environ.get("CG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _require(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; start it to run this test")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    _require("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    _require("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture(scope="session")
def pg_url() -> str:
    _require("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture
def pg_databases(pg_url):
    """Makes fresh, empty PostgreSQL databases for one test; drops them afterwards."""
    import psycopg

    admin = pg_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    made = []

    def make() -> str:
        name = f"cg_t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{pg_url}/{name}"

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database(pg_databases):
    """A fresh, empty PostgreSQL database for one test."""
    return pg_databases()


@pytest.fixture
def system(tmp_path):
    """The whole system embedded, as `make run` starts it (demo data, every service's worker), on a
    fresh var dir."""
    from services.embedded import Embedded
    from shared.config import get_settings

    emb = Embedded(get_settings(mode="embedded", var_dir=tmp_path))
    emb.prepare()
    emb.start()
    yield emb
    emb.stop()


@pytest.fixture
def topology(rabbitmq_url):
    """A private exchange and queue (with retry queues) on the default vhost, deleted afterwards."""
    import pika

    from shared.messaging.topology import QueueSpec, Topology, queue_declarations

    prefix = f"t.{uuid.uuid4().hex[:12]}"
    queue = QueueSpec(f"{prefix}.q", "test", ("intake.case.*.v1.#",), retry_delays_ms=(100, 200))
    topo = Topology(exchange=f"{prefix}.events", dlx=f"{prefix}.dlx", queues=(queue,))
    yield topo
    with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as conn:
        channel = conn.channel()
        for name, _ in queue_declarations(queue, topo):
            channel.queue_delete(name)
        channel.exchange_delete(topo.exchange)
        channel.exchange_delete(topo.dlx)
