"""One resident's request followed across every service: the X-Request-ID of her submission is the
correlation id of intake's event, routing's dispatch and the messages notify sends, and an admin's
trace of the case (or of the request, service by service) shows that chain."""

import json
import logging

from fastapi.testclient import TestClient

from services.cluster import wait_for
from shared import logs, trace_api
from shared.auth import demo_token
from tests.e2e.test_embedded_slice import GRID_POINT


def auth(settings, role):
    return {"Authorization": f"Bearer {demo_token(settings, role)}"}


def submit(client, settings, request_id):
    body = {"category": "env.garbage", "description": "小区东门垃圾桶三天没有清运，气味很大。", **GRID_POINT}
    r = client.post("/intake/v1/cases", json=body, headers={**auth(settings, "resident"), "X-Request-ID": request_id})
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == request_id
    return r.json()


def told(client, settings, case_id):
    """The trace once notify has recorded the grid worker's message about the case."""
    r = client.get(f"/intake/v1/cases/{case_id}/trace", headers=auth(settings, "admin"))
    assert r.status_code == 200, r.text
    trace = r.json()
    sent = [m for m in trace["records"] if m["kind"] == "message" and m["detail"]["template"] == "workorder.new"]
    return trace if sent else None


def test_a_submitted_cases_trace_shows_submit_dispatch_and_notification_under_one_correlation_id(system):
    s, client = system.settings, TestClient(system.asgi())
    case = submit(client, s, "req-trace-0001")
    trace = wait_for(lambda: told(client, s, case["id"]))

    assert trace["correlation_ids"] == ["req-trace-0001"]
    assert trace["missing"] == [] and {"intake", "routing", "notify"} <= set(trace["services"])
    steps = [(e["service"], e["direction"], e["event_type"]) for e in trace["entries"]]
    submitted = steps.index(("intake", "emitted", "intake.case.submitted"))
    handled = steps.index(("routing", "handled", "intake.case.submitted"))
    dispatched = steps.index(("routing", "emitted", "routing.case.dispatched"))
    told_notify = steps.index(("notify", "handled", "routing.case.dispatched"))
    assert submitted < handled < dispatched < told_notify
    assert {e["correlation_id"] for e in trace["entries"]} == {"req-trace-0001"}
    # Each step names the one before as its cause: intake's event caused routing's dispatch.
    by_type = {(e["service"], e["direction"], e["event_type"]): e for e in trace["entries"]}
    cause = by_type[("intake", "emitted", "intake.case.submitted")]["event_id"]
    assert by_type[("routing", "emitted", "routing.case.dispatched")]["causation_id"] == cause
    assert by_type[("routing", "handled", "intake.case.submitted")]["handler"] == "routing:intake.case.submitted.v1"
    messages = [m for m in trace["records"] if m["kind"] == "message"]
    assert messages and {m["correlation_id"] for m in messages} == {"req-trace-0001"}
    assert all(set(m["detail"]) == {"channel", "template", "status", "subject_kind", "subject_id"} for m in messages)

    # The same request in notify's own part, and on the admin's delivery log of a message.
    part = client.get("/notify/v1/admin/trace/req-trace-0001", headers=auth(s, "admin")).json()
    assert part["services"] == ["notify"] and {m["id"] for m in part["records"]} == {m["id"] for m in messages}
    assert all(e["service"] == "notify" and e["direction"] == "handled" for e in part["entries"])
    routing = client.get("/routing/v1/admin/trace/req-trace-0001", headers=auth(s, "admin")).json()
    assert ("emitted", "routing.case.dispatched") in [(e["direction"], e["event_type"]) for e in routing["entries"]]


def test_make_trace_reads_the_same_chain_from_every_services_database(system, monkeypatch, capsys):
    s, client = system.settings, TestClient(system.asgi())
    case = submit(client, s, "req-trace-0004")
    online = wait_for(lambda: told(client, s, case["id"]))
    monkeypatch.setenv("CG_MODE", "embedded")
    monkeypatch.setenv("CG_VAR_DIR", str(s.var_dir))
    assert trace_api.main(["req-trace-0004"]) == 0
    offline = json.loads(capsys.readouterr().out)
    assert offline["correlation_ids"] == ["req-trace-0004"]
    assert {e["event_id"] for e in online["entries"]} <= {e["event_id"] for e in offline["entries"]}
    assert {m["id"] for m in online["records"]} <= {m["id"] for m in offline["records"]}


def test_only_an_admin_reads_a_trace_anybody_else_finds_nothing(system):
    s, client = system.settings, TestClient(system.asgi())
    case = submit(client, s, "req-trace-0002")
    for role in ("resident", "grid_worker", "supervisor"):
        r = client.get(f"/intake/v1/cases/{case['id']}/trace", headers=auth(s, role))
        assert r.status_code == 404 and r.json()["error"]["code"] == "case.not_found"
        r = client.get("/intake/v1/admin/trace/req-trace-0002", headers=auth(s, role))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client.get("/intake/v1/admin/trace/req-trace-0002").status_code == 401
    missing = client.get("/intake/v1/cases/00000000-0000-0000-0000-000000000000/trace", headers=auth(s, "admin"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "case.not_found"


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_the_access_line_of_a_request_carries_its_service_role_and_correlation_id(system):
    s, client = system.settings, TestClient(system.asgi())
    handler, root = logs.prepare(Lines()), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        submit(client, s, "req-trace-0003")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    access = [r for r in handler.records if r.name == "shared.access" and "/intake/v1/cases" in r.getMessage()]
    assert [(r.service, r.role, r.request_id, r.correlation_id) for r in access] == \
        [("intake", "api", "req-trace-0003", "req-trace-0003")]
