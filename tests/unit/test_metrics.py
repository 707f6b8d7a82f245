"""Prometheus metrics (shared/metrics.py): scraped in embedded mode after a case went through intake and
routing, readable from loopback and the allow-list only, never labelled with an id or a phone; and the
alert rules of deploy/prometheus/alerts.yaml are a well-formed Prometheus rule file."""

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from services.cluster import wait_for
from shared import metrics
from shared.auth import demo_token
from shared.config import get_settings
from shared.messaging.local_bus import LocalBus
from shared.runtime import build_runtime
from shared.worker import serve_health
from tests.unit.test_messaging import (
    QUEUE_A,
    SMALL,
    SUBMITTED,
    body_of,
    drain,
    inbox_table,
    make_dispatcher,
    message_of,
    outbox_table,
    record_effect,
    submitted,
)
from tests.unit.test_messaging import metadata as messaging_metadata

ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yaml"
GRID_POINT = {"lat": 30.6283, "lon": 104.052115, "coord_system": "wgs84"}
PHONE = "13812345678"


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(found: list, name: str, **labels) -> float:
    return sum(s.value for s in found if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_a_scrape_after_a_case_is_submitted_and_dispatched_shows_requests_events_and_outboxes(system):
    client = TestClient(system.asgi())
    before = samples(client.get("/metrics").text)
    resident = {"Authorization": f"Bearer {demo_token(system.settings, 'resident')}"}
    r = client.post("/intake/v1/cases", headers=resident, json={
        "category": "utility.water", "description": f"爆管停水，电话 {PHONE}", **GRID_POINT})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert client.get(f"/intake/v1/cases/{case_id}", headers=resident).status_code == 200

    def handled() -> list | None:  # routing took the submission, intake took routing's dispatch
        found = samples(client.get("/metrics").text)
        done = (value(found, "cg_events_total", service="routing", handler="intake.case.submitted.v1",
                      outcome="handled") > value(before, "cg_events_total", service="routing",
                                                 handler="intake.case.submitted.v1", outcome="handled")
                and value(found, "cg_events_total", service="intake", handler="routing.case.dispatched.v1",
                          outcome="handled") > 0)
        return found if done else None

    found = wait_for(handled)
    created = value(found, "cg_http_requests_total", service="intake", route="/intake/v1/cases", method="POST",
                    status="201")
    assert created >= 1
    assert value(found, "cg_http_requests_total", service="intake", route="/intake/v1/cases/{case_id}",
                 method="GET", status="200") >= 1
    assert value(found, "cg_http_request_duration_seconds_count", service="intake", route="/intake/v1/cases",
                 method="POST") >= 1
    outboxes = {s.labels["service"]: s.value for s in found if s.name == "cg_outbox_depth"}
    assert set(outboxes) >= {"intake", "routing", "mediation", "notify", "identity"}
    ages = {s.labels["service"] for s in found if s.name == "cg_outbox_oldest_age_seconds"}
    assert ages == set(outboxes)
    measured = {s.labels["service"]: s.value for s in found if s.name == "cg_outbox_scrape_ok"}
    assert all(measured[name] == 1 for name in system.specs), measured  # (other tests' runtimes may linger)

    # A service's own path serves the same registry (services mode: each API process its own).
    assert "cg_http_requests_total" in client.get("/intake/metrics").text

    # Bounded labels: never a case id, a user id, a phone, or a raw path.
    for s in found:
        for label in s.labels.values():
            assert case_id not in label and PHONE not in label and "u-" not in label, s
            assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", label), s
            assert not re.search(r"\d{7,}", label), s


def test_events_handled_retried_dead_lettered_and_duplicates_are_counted_per_service_and_handler(tmp_path):
    rt = build_runtime("test", get_settings(var_dir=tmp_path, mode="embedded"), outbox_table, inbox_table,
                       url=f"sqlite:///{tmp_path / 'svc.sqlite'}")
    messaging_metadata.create_all(rt.engine)
    bus = LocalBus(tmp_path / "bus" / "bus.sqlite", SMALL)

    def now(outcome: str) -> float:
        return REGISTRY.get_sample_value("cg_events_total", {"service": "test", "handler": SUBMITTED,
                                                             "outcome": outcome}) or 0.0

    def duplicates() -> float:
        return REGISTRY.get_sample_value("cg_inbox_duplicates_total", {"service": "test", "handler": SUBMITTED}) or 0

    def handler(ctx, event):
        record_effect(ctx, event)
        if event.case_no == "BAD":
            raise ValueError("cannot handle this one")

    try:
        before = {o: now(o) for o in ("handled", "retried", "dead_lettered")}
        dups = duplicates()
        dispatcher = make_dispatcher(rt, {SUBMITTED: handler})
        body = body_of(submitted("GOOD"))
        dispatcher.handle(body)
        dispatcher.handle(body)  # again: the inbox drops it
        bus.publish_batch([message_of(submitted("BAD"))])
        assert drain(bus, QUEUE_A, dispatcher, timeout=3.0, batch=1)
        assert now("handled") - before["handled"] == 1
        assert duplicates() - dups == 1
        assert now("retried") - before["retried"] == QUEUE_A.max_attempts - 1
        assert now("dead_lettered") - before["dead_lettered"] == 1
    finally:
        bus.close()
        rt.dispose()


def test_metrics_answer_404_to_a_client_neither_on_loopback_nor_allowed(system):
    outside = TestClient(system.asgi(), client=("203.0.113.7", 40000))
    for path in ("/metrics", "/intake/metrics", "/routing/metrics"):
        assert outside.get(path).status_code == 404, path
    assert TestClient(system.asgi(), client=("127.0.0.1", 40000)).get("/metrics").status_code == 200
    assert TestClient(system.asgi(), client=("::1", 40000)).get("/metrics").status_code == 200


def test_the_allow_list_takes_addresses_and_networks():
    allow = ["10.0.0.0/8", "192.0.2.5", "testclient"]
    assert metrics.allowed("10.1.2.3", allow) and metrics.allowed("192.0.2.5", allow)
    assert metrics.allowed("127.0.0.1", []) and metrics.allowed("::1", [])
    assert metrics.allowed("testclient", allow)
    assert not metrics.allowed("192.0.2.6", allow) and not metrics.allowed("203.0.113.7", allow)
    assert not metrics.allowed(None, allow) and not metrics.allowed("somehost", allow)


def test_metrics_stay_out_of_the_openapi_documents(system):
    client = TestClient(system.asgi())
    for name in system.specs:
        paths = client.get(f"/{name}/openapi.json").json()["paths"]
        assert not [p for p in paths if p.endswith("/metrics")], name


def test_the_workers_probe_server_serves_metrics(system):
    server = serve_health(system.workers[0], "127.0.0.1:0")
    try:
        r = httpx.get(f"http://127.0.0.1:{server.server_address[1]}/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert "cg_outbox_depth" in r.text
    finally:
        server.shutdown()
        server.server_close()


def test_the_alert_rules_are_a_prometheus_rule_file():
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert set(rules) == {"groups"} and rules["groups"]
    alerts = {}
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"\d+[smh]", rule["for"]) and rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            alerts[rule["alert"]] = rule["expr"]
    assert "cg_outbox_oldest_age_seconds" in alerts["OutboxNotDraining"] and "> 60" in alerts["OutboxNotDraining"]
    assert 'outcome="dead_lettered"' in alerts["EventsDeadLettered"]
    assert 'urgency="特急"' in alerts["UrgentCaseOverdue"]
    assert 'status=~"5.."' in alerts["HighServerErrorRate"]
    if shutil.which("promtool"):
        subprocess.run(["promtool", "check", "rules", str(ALERTS)], check=True)
