"""Open311 in the whole system, embedded mode: a key of the demo government system as `make api-key`
issues it reaches intake by identity's event, /open311/v2 reaches intake through the prefix dispatcher, and a
case filed over it is dispatched by routing like any other, its progress read back over Open311."""

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from services.cluster import wait_for
from services.identity import seed

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^cgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")


def test_a_demo_key_files_over_open311_and_follows_the_case_through_routing(system):
    key = seed.demo_api_key(system.runtimes["identity"])  # what `make api-key` prints
    assert KEY.match(key)
    client = TestClient(system.asgi())
    assert client.get("/open311/v2/discovery.json").status_code == 200  # the dispatcher sends /open311 to intake
    form = {"api_key": key, "service_code": "env.garbage", "lat": "30.6283", "long": "104.052115",
            "description": "小区东门垃圾桶三天没有清运，气味很大。"}
    # Accepted once identity.api_key.changed reached intake (the relay and the in-process bus).
    posted = wait_for(lambda: (r := client.post("/open311/v2/requests.json", data=form)).status_code == 201 and r,
                      what="the demo key accepted by intake")
    case_id = posted.json()[0]["service_request_id"]
    headers = {"X-API-Key": key}

    def dispatched():
        [item] = client.get(f"/open311/v2/requests/{case_id}.json", headers=headers).json()
        return item if item["agency_responsible"] else None

    item = wait_for(dispatched, what="routing's dispatch seen over Open311")
    assert item["status"] == "open" and item["agency_responsible"] == "玉林北路社区第一网格"
    updates = client.get("/open311/v2/servicerequestupdates.xml", headers=headers)
    assert updates.status_code == 200 and "<status>INVESTIGATING</status>" in updates.text
    # The staff's own API sees an ordinary case on the government channel.
    admin = client.post("/identity/v1/tokens/password", json={"username": "admin-1", "password": seed.DEMO_PASSWORD})
    view = client.get(f"/intake/v1/cases/{case_id}",
                      headers={"Authorization": f"Bearer {admin.json()['access_token']}"}).json()
    assert view["channel"] == "gov_api" and view["status"] == "dispatched"


def test_make_api_key_prints_a_fresh_key_in_embedded_mode_only(tmp_path):
    env = {**os.environ, "CG_VAR_DIR": str(tmp_path), "CG_MODE": "embedded"}
    run = [sys.executable, "-m", "services.identity", "api-key"]
    first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    second = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == second.returncode == 0, first.stderr
    assert KEY.match(first.stdout.strip()) and KEY.match(second.stdout.strip())
    assert first.stdout != second.stdout  # shown once, so a fresh one each time
    refused = subprocess.run(run, cwd=ROOT, env={**env, "CG_MODE": "services"}, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0 and "embedded mode only" in refused.stderr
