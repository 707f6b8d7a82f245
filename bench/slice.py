"""The first slice under load: POST /intake/v1/cases at rising rates in services mode.

Measures accepted cases/s, HTTP latency, and end-to-end latency from intake (case row
written) through dispatch (work order written) to notification (the grid worker's message
written), plus the bound: a minimal FastAPI endpoint doing one INSERT into the same
PostgreSQL, measured in the same run on the same machine.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import psycopg

from services.cluster import ROOT, Cluster

from .bound_app import bound_body, bound_server
from .load import percentile, run_step

TITLE = "slice: POST /intake/v1/cases → dispatched → notified (services mode, PostgreSQL + RabbitMQ)"
PG_URL = os.environ.get("CG_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("CG_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RATES = [int(r) for r in os.environ.get("CG_BENCH_RATES", "25,50,100,150,200,300,500,800,1000").split(",")]
STEP_SECONDS = float(os.environ.get("CG_BENCH_STEP_SECONDS", "5"))
GRID_POINTS = [(30.6283, 104.052115), (30.6336, 104.052087), (30.63665, 104.052386), (30.6284, 104.060835),
               (30.6335, 104.06123), (30.6367, 104.06122)]


def case_body(i: int) -> dict:
    lat, lon = GRID_POINTS[i % len(GRID_POINTS)]
    return {"category": "env.garbage", "description": f"压测：小区垃圾桶满溢未清运（第 {i} 条）", "lat": lat,
            "lon": lon, "coord_system": "wgs84", "channel": "app"}


def _dsn(cluster: Cluster, service: str) -> str:
    return cluster.database_url(service).replace("postgresql+psycopg://", "postgresql://")


def pipeline_times(cluster: Cluster, case_ids: list[str]) -> dict[str, tuple]:
    """case id → (submitted, dispatched, worker notified) timestamps as written by each service."""
    with psycopg.connect(_dsn(cluster, "intake")) as conn:
        submitted = dict(conn.execute("SELECT id, created_at FROM cases WHERE id = ANY(%s)", (case_ids,)))
    with psycopg.connect(_dsn(cluster, "routing")) as conn:
        dispatched = dict(conn.execute(
            "SELECT case_id, min(created_at) FROM work_orders WHERE case_id = ANY(%s) GROUP BY case_id",
            (case_ids,)))
    with psycopg.connect(_dsn(cluster, "notify")) as conn:
        notified = dict(conn.execute(
            "SELECT subject_id, min(created_at) FROM messages WHERE template = 'workorder.new' "
            "AND subject_id = ANY(%s) GROUP BY subject_id", (case_ids,)))
    return {c: (submitted.get(c), dispatched.get(c), notified.get(c)) for c in case_ids}


def await_pipeline(cluster: Cluster, case_ids: list[str], timeout: float = 120.0) -> dict[str, tuple]:
    deadline = time.monotonic() + timeout
    while True:
        times = pipeline_times(cluster, case_ids)
        if all(t[2] is not None for t in times.values()) or time.monotonic() > deadline:
            return times
        time.sleep(0.5)


def e2e_summary(times: dict[str, tuple]) -> dict:
    done = [t for t in times.values() if None not in t]
    to_dispatch = [(d - s).total_seconds() * 1000 for s, d, _ in done]
    to_notify = [(n - s).total_seconds() * 1000 for s, _, n in done]
    span = None
    if done:
        span = (max(n for *_, n in done) - min(s for s, *_ in done)).total_seconds()
    return {
        "completed": len(done),
        "incomplete": len(times) - len(done),
        "dispatch_ms": {"p50": percentile(to_dispatch, 50), "p95": percentile(to_dispatch, 95),
                        "p99": percentile(to_dispatch, 99)},
        "e2e_ms": {"p50": percentile(to_notify, 50), "p95": percentile(to_notify, 95),
                   "p99": percentile(to_notify, 99)},
        "pipeline_cases_per_s": round(len(done) / span, 1) if span else None,
    }


def cpu_seconds(cluster: Cluster) -> dict[str, float]:
    """CPU time used so far by each process of the cluster, PostgreSQL and RabbitMQ (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")

    def used(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return 0.0

    out = {key: used(proc.pid) for key, proc in cluster.procs.items()}
    for pid_dir in Path("/proc").glob("[0-9]*"):
        try:
            comm = (pid_dir / "comm").read_text().strip()
        except OSError:
            continue
        name = {"postgres": "postgresql", "beam.smp": "rabbitmq"}.get(comm)
        if name:
            out[name] = out.get(name, 0.0) + used(int(pid_dir.name))
    return out


def cpu_per_case(before: dict, after: dict, cases: int) -> dict[str, float]:
    """Milliseconds of CPU each process spent per case over the peak run (PostgreSQL backends that
    ended in between are missed, so its figure is a floor)."""
    per = {k: round((after.get(k, 0.0) - before.get(k, 0.0)) * 1000 / cases, 2) for k in after}
    per = dict(sorted(per.items(), key=lambda kv: -kv[1]))
    per["total"] = round(sum(per.values()), 2)
    return per


def http_summary(step) -> dict:
    return {"offered_rps": step.offered_rps, "sent": step.sent, "accepted": step.accepted, "errors": step.errors,
            "accepted_rps": round(step.accepted_rps, 1),
            "http_ms": {"p50": percentile(step.latencies_ms, 50), "p95": percentile(step.latencies_ms, 95),
                        "p99": percentile(step.latencies_ms, 99)}}


def measure_bound(cluster: Cluster, log_dir: Path) -> dict:
    with bound_server(cluster.database_url("intake"), log_dir / "bound.log") as url:
        asyncio.run(run_step(url, bound_body, {}, rate=100, duration=1.0))
        peak = asyncio.run(run_step(url, bound_body, {}, rate=None, duration=STEP_SECONDS, concurrency=64))
        at_300 = asyncio.run(run_step(url, bound_body, {}, rate=300, duration=STEP_SECONDS))
    return {"what": "minimal FastAPI endpoint, one INSERT into the same PostgreSQL, one uvicorn process",
            "peak": http_summary(peak), "at_300_rps": http_summary(at_300)}


def run() -> dict:
    print(HEADER, flush=True)
    result = _run()
    s, b = result["summary"], result["bound"]
    print(f"\nbound (one INSERT endpoint): {b['peak']['accepted_rps']:.0f}/s peak, "
          f"p99 {b['at_300_rps']['http_ms']['p99']} ms at 300/s")
    print(f"accepted {s['accepted_cases_per_s']:.0f} cases/s; pipeline {s['pipeline_cases_per_s']} cases/s "
          f"(target ≥ 1000); e2e p99 at 300/s {s['e2e_p99_ms_at_300_rps']} ms (target ≤ 250)")
    return result


def _run() -> dict:
    log_dir = ROOT / "var" / "bench" / "logs"
    cluster = Cluster(PG_URL, AMQP_URL, log_dir, tag="bench")
    try:
        cluster.up()
        url = f"{cluster.url('intake')}/intake/v1/cases"
        headers = {"Authorization": f"Bearer {cluster.token('resident')}"}
        asyncio.run(run_step(url, case_body, headers, rate=50, duration=2.0))  # warm-up
        bound = measure_bound(cluster, log_dir)
        steps = []
        for rate in RATES:
            step = asyncio.run(run_step(url, case_body, headers, rate=rate, duration=STEP_SECONDS, keep_bodies=True))
            ids = [json.loads(b)["id"] for b in step.bodies]
            row = {**http_summary(step), **e2e_summary(await_pipeline(cluster, ids))}
            steps.append(row)
            print(_row(row), flush=True)
            if step.accepted_rps < 0.9 * rate or row["incomplete"]:
                break  # saturated: higher rates only measure queueing
        before = cpu_seconds(cluster)
        peak = asyncio.run(run_step(url, case_body, headers, rate=None, duration=STEP_SECONDS * 2,
                                    concurrency=64, keep_bodies=True))
        peak_ids = [json.loads(b)["id"] for b in peak.bodies]
        peak_row = {**http_summary(peak), **e2e_summary(await_pipeline(cluster, peak_ids, timeout=300))}
        time.sleep(2.0)  # let notify's sender and the relays finish what the last cases caused
        cpu = cpu_per_case(before, cpu_seconds(cluster), max(1, peak_row["completed"]))
        print(_row(peak_row), flush=True)
        print("CPU ms per case: " + ", ".join(f"{k} {v}" for k, v in cpu.items()), flush=True)
        peak_row["cpu_ms_per_case"] = cpu
    except Exception:
        sys.stderr.write(cluster.logs())
        raise
    finally:
        cluster.close()
    at_300 = next((s for s in steps if s["offered_rps"] == 300), None)
    return {
        "bound": bound,
        "steps": steps,
        "peak": peak_row,
        "summary": {
            "accepted_cases_per_s": peak_row["accepted_rps"],
            "pipeline_cases_per_s": peak_row["pipeline_cases_per_s"],
            "bound_inserts_per_s": bound["peak"]["accepted_rps"],
            "e2e_p99_ms_at_300_rps": at_300["e2e_ms"]["p99"] if at_300 else None,
            "targets": {"pipeline_cases_per_s": 1000, "e2e_p99_ms_at_300_rps": 250},
        },
    }


HEADER = (f"{'offered/s':>10} {'accepted/s':>10} {'errors':>6} {'http p50':>9} {'http p99':>9} "
          f"{'e2e p50':>8} {'e2e p95':>8} {'e2e p99':>8} {'pipeline/s':>10}")


def _row(r: dict) -> str:
    def f(v):
        return "-" if v is None else f"{v:.0f}" if isinstance(v, float) else str(v)

    return (f"{f(r['offered_rps']) if r['offered_rps'] else 'max':>10} {f(r['accepted_rps']):>10} {r['errors']:>6} "
            f"{f(r['http_ms']['p50']):>9} {f(r['http_ms']['p99']):>9} {f(r['e2e_ms']['p50']):>8} "
            f"{f(r['e2e_ms']['p95']):>8} {f(r['e2e_ms']['p99']):>8} {f(r['pipeline_cases_per_s']):>10}")
