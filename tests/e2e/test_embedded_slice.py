"""The first vertical slice in embedded mode: one process, SQLite files, the in-process bus."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from services import spec as service_spec
from services.cluster import wait_for
from shared.auth import demo_token, issue_token
from shared.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
# inside 玉林北路社区第一网格 (510107001001001)
GRID_POINT = {"lat": 30.6283, "lon": 104.052115, "coord_system": "wgs84"}
OUTSIDE_STREET = {"lat": 30.622, "lon": 104.038, "coord_system": "wgs84"}  # inside the district, outside every grid


def auth(settings, role):
    return {"Authorization": f"Bearer {demo_token(settings, role)}"}


def submit(client, headers, **extra):
    body = {"category": "env.garbage", "description": "小区东门垃圾桶三天没有清运，气味很大。", **GRID_POINT}
    body.update(extra)
    r = client.post("/intake/v1/cases", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_case_reaches_the_grid_worker_and_everyone_is_told(system):
    s = system.settings
    client = TestClient(system.asgi())
    resident = auth(s, "resident")
    case = submit(client, resident)
    assert case["status"] == "submitted" and case["case_no"].count("-") == 2

    def dispatched():
        r = client.get(f"/intake/v1/cases/{case['id']}", headers=resident)
        return r.json() if r.json()["status"] == "dispatched" else None

    view = wait_for(dispatched)
    assert view["unit_name"] == "玉林北路社区第一网格"
    kinds = [t["kind"] for t in view["timeline"]]
    assert kinds == ["submitted", "dispatched"]  # the dispatch rule is internal: not shown to residents
    staff_view = client.get(f"/intake/v1/cases/{case['id']}", headers=auth(s, "supervisor")).json()
    assert "dispatch_rule" in [t["kind"] for t in staff_view["timeline"]]

    def inbox(role, n):
        items = client.get("/notify/v1/inbox", headers=auth(s, role)).json()
        mine = [m for m in items if m["subject_id"] == case["id"]]
        return mine if len(mine) >= n else None

    resident_msgs = wait_for(lambda: inbox("resident", 2))
    assert {m["title"] for m in resident_msgs} == {"诉求已受理", "诉求已派单"}
    worker_msgs = wait_for(lambda: inbox("grid_worker", 1))
    assert worker_msgs[0]["title"] == "新工单待签收"
    orders = client.get("/routing/v1/work-orders/mine", headers=auth(s, "grid_worker")).json()["items"]
    assert [o["case_id"] for o in orders] == [case["id"]]
    assert "510107001001001" in orders[0]["rule"]


def test_a_point_outside_every_grid_falls_back_to_a_coarser_unit(system):
    s = system.settings
    client = TestClient(system.asgi())
    case = submit(client, auth(s, "resident"), **OUTSIDE_STREET)
    view = wait_for(lambda: (v := client.get(f"/intake/v1/cases/{case['id']}",
                                              headers=auth(s, "resident")).json())["status"] == "dispatched" and v)
    assert view["unit_name"] == "武侯区"


def test_a_resident_cannot_read_another_residents_case(system):
    s = system.settings
    client = TestClient(system.asgi())
    case = submit(client, auth(s, "resident"))
    other = {"Authorization": "Bearer " + issue_token(s, "u-resident-2", "resident")}
    r = client.get(f"/intake/v1/cases/{case['id']}", headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "case.not_found"
    assert client.get("/intake/v1/cases", headers=other).json()["total"] == 0
    assert client.get("/intake/v1/cases", headers=auth(s, "resident")).json()["total"] == 1


def test_bad_input_is_refused_with_a_code_a_message_and_the_field_and_changes_nothing(system):
    s = system.settings
    client = TestClient(system.asgi())
    resident = auth(s, "resident")
    r = client.post("/intake/v1/cases", json={"category": "nope", "description": "x", **GRID_POINT},
                    headers=resident)
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "case.unknown_category", "message": "诉求类别不存在，请从类别目录中选择",
                                 "field": "category"}
    r = client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "x" * 4001},
                    headers={**resident, "Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "description" and r.json()["error"]["message"] == "Too long"
    r = client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "x", "lat": 91,
                                              "lon": 104.0}, headers=resident)
    assert r.json()["error"]["code"] == "validation.out_of_range" and r.json()["error"]["field"] == "lat"
    assert client.post("/intake/v1/cases", json={}).status_code == 401
    assert client.get("/intake/v1/cases", headers=resident).json()["total"] == 0


def test_every_service_has_health_readiness_and_docs(system):
    client = TestClient(system.asgi())
    for name in ("intake", "routing", "mediation", "notify"):
        assert client.get(f"/{name}/healthz").json()["status"] == "ok"
        assert client.get(f"/{name}/readyz").status_code == 200
        assert client.get(f"/{name}/docs").status_code == 200
        spec = client.get(f"/{name}/openapi.json").json()
        # Its own prefix, and the standard paths it also serves (intake: Open311's /open311/v2/).
        prefixes = (f"/{name}/", *(f"{p.rstrip('/')}/" for p in service_spec(name).also_serves))
        assert all(path.startswith(prefixes) for path in spec["paths"])
    assert client.get("/open311/v2/discovery.json").status_code == 200  # reaches intake in the one process
    assert "/intake/docs" in client.get("/docs").text
    grids = client.get("/routing/v1/grids", headers=auth(system.settings, "resident")).json()
    assert grids["type"] == "FeatureCollection" and len(grids["features"]) >= 4
    assert all(f["geometry"]["type"] == "Polygon" for f in grids["features"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_embedded_server_process_serves_the_slice(tmp_path):
    """What `make run` starts: one real server process on a port."""
    port = _free_port()
    env = {**os.environ, "CG_VAR_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "services", "embedded", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(f"{base}/intake/readyz"), timeout=60)
        settings = get_settings(var_dir=tmp_path)
        resident = auth(settings, "resident")
        with httpx.Client(base_url=base, timeout=10) as client:
            case = submit(client, resident)
            wait_for(lambda: client.get(f"/intake/v1/cases/{case['id']}",
                                        headers=resident).json()["status"] == "dispatched")
        # Ctrl-C: every worker thread is woken, none sleeps out its poll (it took 5 s a thread).
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - started < 3.0
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
