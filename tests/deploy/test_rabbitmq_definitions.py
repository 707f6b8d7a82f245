"""deploy/rabbitmq/definitions.json: generated from the one topology table (shared/messaging/topology.py),
and importable by a real RabbitMQ. The import goes into a fresh private vhost of the machine's broker
(`rabbitmqctl add_vhost` + `import_definitions`), deleted afterwards: the queues are there as quorum
queues with their delivery limits and dead-letter exchange, and a rejected message reaches its DLQ."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from urllib.parse import quote

import pika
import pytest

from shared.messaging.topology import TOPOLOGY, rabbitmq_definitions

from ..broker import take_all
from .manifests import DEPLOY

DEFINITIONS = DEPLOY / "rabbitmq" / "definitions.json"


def test_the_committed_definitions_are_what_the_topology_table_generates():
    committed = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    assert committed == rabbitmq_definitions(), (
        "stale: python -m shared.messaging.topology > deploy/rabbitmq/definitions.json (make deploy-files)")


def rabbitmqctl(*args: str) -> str:
    out = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr or out.stdout
    return out.stdout


@pytest.fixture
def vhost(rabbitmq_url):
    if shutil.which("rabbitmqctl") is None:
        message = "rabbitmqctl is not installed: the definitions cannot be imported here"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, and CI=true requires it", pytrace=False)
        pytest.skip(message)
    name = f"cg-defs-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    user = pika.URLParameters(rabbitmq_url).credentials.username
    rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
    try:
        yield name, rabbitmq_url.rsplit("/", 1)[0] + "/" + quote(name, safe="")
    finally:
        rabbitmqctl("delete_vhost", name)


def queues_of(vhost: str) -> dict[str, dict]:
    listed = json.loads(rabbitmqctl("list_queues", "-q", "-p", vhost, "name", "type", "arguments",
                                    "--formatter", "json"))
    return {q["name"]: {"type": q["type"], "arguments": {a[0]: a[2] for a in q["arguments"]}} for q in listed}


@pytest.mark.rabbitmq
def test_the_definitions_import_into_a_real_rabbitmq_as_quorum_queues_with_delivery_limits_and_dead_letters(
        vhost):
    name, url = vhost
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    for kind in ("exchanges", "queues", "bindings"):  # the file is for vhost "/"; this import, for a private one
        for item in definitions[kind]:
            item["vhost"] = name
    # In a world-readable file: rabbitmqctl runs as the rabbitmq user, who cannot read the test's own folders
    # (and this version refuses "-" for standard input). The topology is no secret.
    fd, path = tempfile.mkstemp(prefix="cg-definitions-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(definitions, f)
        os.chmod(path, 0o644)
        rabbitmqctl("import_definitions", path)
    finally:
        os.unlink(path)

    wanted = {q["name"]: q["arguments"] for q in definitions["queues"]}
    deadline = time.monotonic() + 30  # the import is asynchronous
    while set(queues := queues_of(name)) != set(wanted) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert set(queues) == set(wanted)
    for spec in TOPOLOGY.queues:
        main = queues[spec.name]
        assert main["type"] == "quorum"
        assert main["arguments"]["x-delivery-limit"] == spec.delivery_limit
        assert main["arguments"]["x-dead-letter-exchange"] == TOPOLOGY.dlx
        assert main["arguments"]["x-dead-letter-routing-key"] == spec.name
        assert queues[spec.dlq]["type"] == "quorum"
        for delay in spec.retry_delays_ms:
            retry = queues[spec.retry_queue(spec.retry_delays_ms.index(delay) + 1)]
            assert retry["type"] == "quorum" and retry["arguments"]["x-message-ttl"] == delay
    exchanges = {e["name"]: e["type"] for e in json.loads(rabbitmqctl(
        "list_exchanges", "-q", "-p", name, "name", "type", "--formatter", "json"))}
    assert exchanges[TOPOLOGY.exchange] == "topic" and exchanges[TOPOLOGY.dlx] == "direct"

    # The imported topology works: an event reaches the queues bound to it, and one rejected for good goes
    # to its queue's DLQ; a retry queue hands its message back to the main queue when its TTL runs out.
    spec = TOPOLOGY.route("intake.case.submitted.v1")[0]
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(TOPOLOGY.exchange, "intake.case.submitted.v1", b"poison")
        method = None
        for _ in range(50):
            method, _props, _body = channel.basic_get(spec.name)
            if method:
                break
            time.sleep(0.1)
        assert method is not None, f"nothing routed to {spec.name}"
        channel.basic_nack(method.delivery_tag, requeue=False)
        channel.basic_publish("", spec.retry_queue(1), b"again")
    deadline = time.monotonic() + 10
    dead, back = [], []
    while (not dead or not back) and time.monotonic() < deadline:
        dead += take_all(url, spec.dlq)
        back += take_all(url, spec.name)
        time.sleep(0.2)
    assert [body for _, body in dead] == [b"poison"]
    assert [body for _, body in back] == [b"again"]
