"""The first vertical slice across separate processes: 5 APIs + 5 workers, PostgreSQL, RabbitMQ."""

import sys
import time

import httpx
import pytest

from services.cluster import Cluster, wait_for
from shared.config import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.rabbitmq, pytest.mark.postgres]
# inside 玉林北路社区第二网格 (510107001001002)
GRID_POINT = {"lat": 30.6336, "lon": 104.052087, "coord_system": "wgs84"}


@pytest.fixture
def cluster(pg_url, rabbitmq_url, tmp_path):
    c = Cluster(pg_url, rabbitmq_url, tmp_path)
    try:
        yield c.up()
    finally:
        c.close()
        sys.stderr.write(c.logs())  # pytest shows it only when the test failed


_TOKENS: dict[tuple[str, str], str] = {}


def _headers(role: str, cluster: Cluster) -> dict:
    key = (cluster.prefix, role)
    if key not in _TOKENS:
        _TOKENS[key] = cluster.token(role)
    return {"Authorization": f"Bearer {_TOKENS[key]}"}


def _submit(cluster: Cluster) -> dict:
    r = httpx.post(f"{cluster.url('intake')}/intake/v1/cases", headers=_headers("resident", cluster), timeout=10,
                   json={"category": "env.garbage", "description": "玉林北路小区门口垃圾三天没人清运", **GRID_POINT})
    assert r.status_code == 201, r.text
    return r.json()


def _case(cluster: Cluster, case_id: str) -> dict:
    return httpx.get(f"{cluster.url('intake')}/intake/v1/cases/{case_id}", headers=_headers("resident", cluster),
                     timeout=10).json()


def test_the_slice_runs_across_separate_processes(cluster):
    case = _submit(cluster)
    view = wait_for(lambda: (v := _case(cluster, case["id"]))["status"] == "dispatched" and v,
                    what="dispatched")
    assert view["unit_name"] == "玉林北路社区第二网格"
    assert [t["kind"] for t in view["timeline"]] == ["submitted", "dispatched"]

    def inbox(role):
        r = httpx.get(f"{cluster.url('notify')}/notify/v1/inbox", headers=_headers(role, cluster), timeout=10)
        return [m for m in r.json() if m["subject_id"] == case["id"]]

    assert {m["title"] for m in wait_for(lambda: len(inbox("resident")) == 2 and inbox("resident"))} == {
        "诉求已受理", "诉求已派单"}
    grids = httpx.get(f"{cluster.url('routing')}/routing/v1/grids", headers=_headers("resident", cluster),
                      timeout=10).json()
    assert len(grids["features"]) >= 4
    for name in SERVICES:
        assert httpx.get(f"{cluster.url(name)}/{name}/docs", timeout=10).status_code == 200


def test_a_case_filed_on_patrol_reaches_grid_and_a_residents_matter_reaches_selfgov_over_rabbitmq(cluster):
    """A submitted case travels as intake.case.submitted.v1.<channel>.<route>: grid's queue is bound to the
    cases filed on patrol and selfgov's to the residents' matters (the topology's tests show the others
    never reach them)."""
    from datetime import datetime

    from shared.config import local_zone

    r = httpx.post(f"{cluster.url('intake')}/intake/v1/cases", headers=_headers("grid_worker", cluster), timeout=10,
                   json={"category": "env.garbage", "description": "巡查发现垃圾桶满溢，已当场联系保洁清运",
                         "channel": "grid_patrol", "handling": "self", "result": "已当场清运", **GRID_POINT})
    assert r.status_code == 201, r.text
    day = datetime.now(local_zone()).date().isoformat()

    def self_resolved() -> int:
        r = httpx.get(f"{cluster.url('grid')}/grid/v1/grids/510107001001002/days/{day}", timeout=10,
                      headers=_headers("community_staff", cluster))
        assert r.status_code == 200, r.text
        return r.json()["self_resolved"]

    wait_for(lambda: self_resolved() == 1, what="the patrol's case counted by grid")

    r = httpx.post(f"{cluster.url('intake')}/intake/v1/cases", headers=_headers("resident", cluster), timeout=10,
                   json={"category": "community.public_space", "description": "建议把小区空地改成儿童游乐场",
                         "appeal_type": "建议", **GRID_POINT})
    assert r.status_code == 201 and r.json()["status"] == "consulting", r.text
    case_no = r.json()["case_no"]

    def matters() -> list:
        r = httpx.get(f"{cluster.url('selfgov')}/selfgov/v1/matters", headers=_headers("resident", cluster),
                      timeout=10)
        assert r.status_code == 200, r.text
        return [m for m in r.json() if m["case_no"] == case_no]

    assert wait_for(matters, what="the residents' matter raised by selfgov")[0]["status"]


def test_cases_accepted_while_a_worker_is_down_are_delivered_when_it_returns(cluster):
    cluster.stop("routing-worker")
    cases = [_submit(cluster) for _ in range(5)]
    time.sleep(1.0)
    assert all(_case(cluster, c["id"])["status"] == "submitted" for c in cases)
    cluster.start("routing", "worker")
    for c in cases:
        wait_for(lambda c=c: _case(cluster, c["id"])["status"] == "dispatched", what="dispatched after restart")


def test_a_worker_killed_mid_stream_loses_nothing_and_repeats_nothing(cluster):
    import signal

    import psycopg

    cases = [_submit(cluster) for _ in range(40)]
    worker = cluster.procs["routing-worker"]
    worker.send_signal(signal.SIGKILL)  # no goodbye: unacked deliveries go back to the queue
    worker.wait()
    cluster.procs.pop("routing-worker")
    cluster.start("routing", "worker")
    for c in cases:
        wait_for(lambda c=c: _case(cluster, c["id"])["status"] == "dispatched", what="dispatched after a crash")
    dsn = cluster.database_url("routing").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        counts = dict(conn.execute(
            "SELECT case_id, count(*) FROM work_orders WHERE role = 'lead' AND case_id = ANY(%s) GROUP BY case_id",
            ([c["id"] for c in cases],)).fetchall())
    assert len(counts) == 40 and set(counts.values()) == {1}


def test_a_person_signs_in_at_identity_and_signing_out_ends_the_token_in_every_service(cluster):
    from services.identity.seed import DEMO_PASSWORD

    r = cluster.password_token("street-dispatcher-1", DEMO_PASSWORD)
    assert r.status_code == 200, r.text
    pair = r.json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    # Routing verifies the token with identity's public keys, fetched over HTTP.
    assert httpx.get(f"{cluster.url('routing')}/routing/v1/units", headers=bearer, timeout=10).status_code == 200
    assert cluster.password_token("street-dispatcher-1", "wrong-" + DEMO_PASSWORD).status_code == 401
    out = httpx.post(f"{cluster.url('identity')}/identity/v1/sign-out", headers=bearer, timeout=10)
    assert out.status_code == 204
    # The revocation travels as an event through RabbitMQ to routing's worker, and routing's API
    # reads it within its refresh interval.
    wait_for(lambda: httpx.get(f"{cluster.url('routing')}/routing/v1/units", headers=bearer,
                               timeout=10).status_code == 401, timeout=20, what="the token refused by routing")
    refreshed = httpx.post(f"{cluster.url('identity')}/identity/v1/tokens/refresh",
                           json={"refresh_token": pair["refresh_token"]}, timeout=10)
    assert refreshed.status_code == 401
