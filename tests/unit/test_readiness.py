"""An API's readyz is 503 only when its database cannot be reached: the broker is the worker's readiness
(shared/worker.py; tests/unit/test_worker.py, tests/e2e/test_faults_mended.py)."""

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from shared.auth import Verifier
from shared.config import get_settings
from shared.keys import LocalJwks, signing_keys
from shared.messaging.tables import messaging_tables
from shared.runtime import build_runtime
from shared.web import amqp_reachable, create_app


def app_for(settings, url, verifier=None):
    outbox, inbox = messaging_tables(MetaData())
    rt = build_runtime("demo", settings, outbox, inbox, url)
    return TestClient(create_app(rt, title="t", description="t", router=APIRouter(), verifier=verifier))


def holding_keys(settings) -> Verifier:
    """A verifier that read identity's keys already (identity's own, or any API after its first read)."""
    keys = signing_keys(get_settings(mode="embedded", var_dir=settings.var_dir))
    return Verifier(settings, LocalJwks(keys.jwks()), None)


def test_ready_when_the_database_answers(tmp_path):
    client = app_for(get_settings(var_dir=tmp_path), f"sqlite:///{tmp_path / 'x.sqlite'}")
    r = client.get("/demo/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "token_keys": "ok"}


def test_not_ready_when_the_database_is_unreachable(tmp_path):
    client = app_for(get_settings(var_dir=tmp_path), "postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    r = client.get("/demo/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("unreachable")
    assert client.get("/demo/healthz").status_code == 200  # alive all the same


def test_an_api_stays_ready_while_the_broker_is_down(tmp_path):
    """While RabbitMQ was down every API's readyz said 503 although POST still answered 201: a load balancer
    would have taken intake offline exactly when its outbox was keeping the residents' reports."""
    settings = get_settings(mode="services", var_dir=tmp_path, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F")
    client = app_for(settings, f"sqlite:///{tmp_path / 'x.sqlite'}", holding_keys(settings))
    r = client.get("/demo/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "token_keys": "ok"}


def test_an_api_is_not_ready_before_it_could_read_identitys_keys(tmp_path):
    """Started beside identity, an API that took requests before reading the keys answered its first
    signed-in requests 503 `auth.unavailable` (or made them wait for the fetch): it is not ready until then."""
    settings = get_settings(mode="services", var_dir=tmp_path, identity_url="http://127.0.0.1:9")
    client = app_for(settings, f"sqlite:///{tmp_path / 'x.sqlite'}")
    r = client.get("/demo/readyz")
    assert r.status_code == 503 and r.json()["checks"]["token_keys"] == "not yet read from identity"
    assert r.json()["checks"]["database"] == "ok"


def test_a_port_that_is_not_amqp_is_not_a_broker(tmp_path):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def answer_http():
        conn, _ = server.accept()
        conn.recv(16)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_http, daemon=True).start()
    assert amqp_reachable(f"amqp://guest:guest@127.0.0.1:{port}/%2F") is False
    server.close()
