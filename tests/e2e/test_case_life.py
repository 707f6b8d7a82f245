"""A case's whole life across the four services, in embedded mode: intake → routing → the
handler's sign-for, first contact and result → the resident's evaluation → routing's scores,
with notify telling people along the way; and a dispute that goes to mediation instead."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from services.cluster import wait_for
from services.embedded import Embedded
from shared.auth import demo_token
from shared.config import get_settings

GRID_POINT = {"lat": 30.6283, "lon": 104.052115, "coord_system": "wgs84"}  # 玉林北路社区第一网格


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    emb = Embedded(get_settings(mode="embedded", var_dir=tmp_path_factory.mktemp("life")))
    emb.prepare()
    emb.start()
    yield emb
    emb.stop()


@pytest.fixture(scope="module")
def client(system):
    return TestClient(system.asgi())


def h(system, role):
    return {"Authorization": f"Bearer {demo_token(system.settings, role)}"}


def case_status(client, system, case_id):
    return client.get(f"/intake/v1/cases/{case_id}", headers=h(system, "resident")).json()["status"]


def test_a_case_from_report_to_score(system, client):
    r = client.post("/intake/v1/cases", headers=h(system, "resident"), json={
        "category": "env.garbage", "description": "小区东门垃圾桶三天没有清运，气味很大。", **GRID_POINT})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    wait_for(lambda: case_status(client, system, case_id) == "dispatched", what="dispatched")

    worker = h(system, "grid_worker")
    mine = client.get("/routing/v1/work-orders/mine", headers=worker).json()["items"]
    orders = [o for o in mine if o["case_id"] == case_id]
    assert len(orders) == 1
    order = orders[0]["id"]
    for step, body in (("sign", None), ("contact", {"note": "已电话联系居民"}),
                       ("resolve", {"outcome": "解决到位", "result_text": "已协调环卫清运并加密清运频次。"})):
        r = client.post(f"/routing/v1/work-orders/{order}/{step}", headers=worker, json=body)
        assert r.status_code == 200, (step, r.text)
    wait_for(lambda: case_status(client, system, case_id) == "resolved", what="resolved")

    r = client.post(f"/intake/v1/cases/{case_id}/evaluation", headers=h(system, "resident"),
                    json={"contacted": True, "solved": True, "satisfaction": "满意"})
    assert r.status_code == 200, r.text

    period = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    def grid_row():
        rows = client.get("/routing/v1/scores", params={"period": period, "group_by": "unit"},
                          headers=h(system, "supervisor")).json()["rows"]
        row = next((x for x in rows if x["code"] == "510107001001001"), None)
        return row if row and row["counts"]["evaluated"] == 1 else None

    row = wait_for(grid_row, what="the evaluation reaches the scores")
    assert row["counts"] == {**row["counts"], "dispatched": 1, "solved": 1, "satisfied": 1, "completed": 1}
    assert row["rates"]["resolution"] == 100 and row["rates"]["satisfaction"] == 100

    def titles(role):
        items = client.get("/notify/v1/inbox", params={"limit": 100}, headers=h(system, role)).json()
        return [m["title"] for m in items if m["subject_id"] == case_id]

    # the resident heard of the reception, the dispatch and the result; the worker of the new order
    wait_for(lambda: len(titles("resident")) >= 3, what="the resident's messages")
    assert wait_for(lambda: titles("grid_worker"), what="the grid worker's message")


def test_a_dispute_goes_to_mediation_and_the_resident_sees_it(system, client):
    r = client.post("/intake/v1/cases", headers=h(system, "resident"), json={
        "category": "dispute.neighbour", "description": "楼上邻居每晚装修到十一点，多次沟通无果，希望调解。",
        **GRID_POINT})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert r.json()["status"] == "referred"

    def mine():
        disputes = client.get("/mediation/v1/disputes", headers=h(system, "resident")).json()
        return disputes or None

    disputes = wait_for(mine, what="the dispute reaches mediation")
    assert disputes[0]["source"] == "intake"
    wait_for(lambda: case_status(client, system, case_id) == "mediation_applied", what="intake follows mediation")
    # routing never dispatched it
    orders = client.get("/routing/v1/work-orders/mine", headers=h(system, "grid_worker")).json()["items"]
    assert case_id not in [o["case_id"] for o in orders]
