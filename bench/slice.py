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

from . import roundtrips
from .bound_app import bound_body, bound_server
from .load import percentile, run_step

TITLE = "slice: POST /intake/v1/cases → dispatched → notified (services mode, PostgreSQL + RabbitMQ)"
PG_URL = os.environ.get("CG_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("CG_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RATES = [int(r) for r in os.environ.get("CG_BENCH_RATES", "25,50,100,150,200,300,500,800,1000").split(",")]
STEP_SECONDS = float(os.environ.get("CG_BENCH_STEP_SECONDS", "5"))
# The surge: this many cases/s offered for this long, after the peak run left the pipeline saturated.
SURGE_RATE = int(os.environ.get("CG_BENCH_SURGE_RATE", "400"))
SURGE_SECONDS = float(os.environ.get("CG_BENCH_SURGE_SECONDS", "30"))
# Processes per service, and how much lower the workers run than the APIs (services.cluster.Cluster).
APIS = int(os.environ.get("CG_BENCH_APIS", "1"))
WORKERS = int(os.environ.get("CG_BENCH_WORKERS", "1"))
WORKER_NICE = int(os.environ.get("CG_BENCH_WORKER_NICE", "15"))
# Closed-loop runs keep this many requests in flight: below an API's admission bound (CG_ADMISSION_LIMIT),
# so the peak measures work done, not a loop of fast refusals.
PEAK_CONCURRENCY = int(os.environ.get("CG_BENCH_PEAK_CONCURRENCY", "8"))
TARGETS = {"pipeline_cases_per_s": 200, "e2e_p99_ms_at_100_rps": 250, "surge_accepted_p99_ms": 100,
           "surge_accepted_share_of_bound": 0.6, "surge_errors": 0}
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
    return {"offered_rps": step.offered_rps, "sent": step.sent, "accepted": step.accepted, "refused": step.refused,
            "errors": step.errors, "accepted_rps": round(step.accepted_rps, 1),
            "http_ms": {"p50": percentile(step.latencies_ms, 50), "p95": percentile(step.latencies_ms, 95),
                        "p99": percentile(step.latencies_ms, 99)},
            "accepted_ms": {"p50": percentile(step.accepted_ms, 50), "p99": percentile(step.accepted_ms, 99)},
            "refused_ms": {"p50": percentile(step.refused_ms, 50), "p99": percentile(step.refused_ms, 99)}}


def round_trips_per_case(before: dict, after: dict, cases: int) -> dict:
    """Database round trips per case over the peak run, summed over every process (bench/roundtrips.py)."""
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    per = {k: round(v / cases, 1) for k, v in diff.items()}
    per["round_trips"] = round(roundtrips.round_trips(diff) / cases, 1)
    return per


def surge(url: str, headers: dict, bound_rps: float) -> dict:
    """SURGE_RATE cases/s offered for SURGE_SECONDS while the pipeline is saturated: what intake takes, how
    fast, and that everything else is a fast 503 (never a wait, a reset or another error). `bound_rps`: what
    the one-INSERT endpoint took when offered the same rate (its peak is more than is offered here, so a
    share of the peak could never reach the target whatever intake did)."""
    step = asyncio.run(run_step(url, lambda i: case_body(i + 1_000_000), headers, rate=SURGE_RATE,
                                duration=SURGE_SECONDS, concurrency=256))
    row = http_summary(step)
    row["bound_rps"] = bound_rps
    row["accepted_share_of_bound"] = round(step.accepted_rps / bound_rps, 2) if bound_rps else None
    return row


def measure_bound(cluster: Cluster, log_dir: Path) -> dict:
    with bound_server(cluster.database_url("intake"), log_dir / "bound.log") as url:
        asyncio.run(run_step(url, bound_body, {}, rate=100, duration=1.0))
        peak = asyncio.run(run_step(url, bound_body, {}, rate=None, duration=STEP_SECONDS,
                                    concurrency=PEAK_CONCURRENCY))
        at_300 = asyncio.run(run_step(url, bound_body, {}, rate=300, duration=STEP_SECONDS))
        at_surge = asyncio.run(run_step(url, bound_body, {}, rate=SURGE_RATE, duration=STEP_SECONDS,
                                        concurrency=256))
    return {"what": "minimal FastAPI endpoint, one INSERT into the same PostgreSQL, one uvicorn process",
            "peak": http_summary(peak), "at_300_rps": http_summary(at_300), "at_surge_rate": http_summary(at_surge)}


def run() -> dict:
    print(f"{APIS} API and {WORKERS} worker process(es) per service, workers at nice +{WORKER_NICE}", flush=True)
    print(HEADER, flush=True)
    result = _run()
    s, b = result["summary"], result["bound"]
    print(f"\nbound (one INSERT endpoint): {b['peak']['accepted_rps']:.0f}/s peak, "
          f"p99 {b['at_300_rps']['http_ms']['p99']} ms at 300/s")
    print(f"accepted {s['accepted_cases_per_s']:.0f} cases/s; pipeline {s['pipeline_cases_per_s']} cases/s "
          f"(target ≥ {TARGETS['pipeline_cases_per_s']}); e2e p99 at 100/s {s['e2e_p99_ms_at_100_rps']} ms "
          f"(target ≤ {TARGETS['e2e_p99_ms_at_100_rps']})")
    u = result["surge"]
    print(f"surge {SURGE_RATE}/s for {SURGE_SECONDS:.0f} s: accepted {u['accepted_rps']}/s "
          f"({u['accepted_share_of_bound']} × the bound's {u['bound_rps']:.0f}/s at that rate, target ≥ "
          f"{TARGETS['surge_accepted_share_of_bound']}), accepted p99 {u['accepted_ms']['p99']} ms (target ≤ "
          f"{TARGETS['surge_accepted_p99_ms']}), {u['refused']} fast 503 (p99 {u['refused_ms']['p99']} ms), "
          f"{u['errors']} errors (target 0)")
    return result


def _run() -> dict:
    log_dir = ROOT / "var" / "bench" / "logs"
    counts_dir = ROOT / "var" / "bench" / "roundtrips" / os.urandom(4).hex()
    cluster = Cluster(PG_URL, AMQP_URL, log_dir, tag="bench", apis=APIS, workers=WORKERS, worker_nice=WORKER_NICE,
                      env={"CG_ROUNDTRIPS_DIR": str(counts_dir)}, launcher=("-m", "bench.roundtrips"))
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
        before, trips = cpu_seconds(cluster), roundtrips.totals(counts_dir)
        peak = asyncio.run(run_step(url, case_body, headers, rate=None, duration=STEP_SECONDS * 2,
                                    concurrency=PEAK_CONCURRENCY, keep_bodies=True))
        peak_ids = [json.loads(b)["id"] for b in peak.bodies]
        peak_row = {**http_summary(peak), **e2e_summary(await_pipeline(cluster, peak_ids, timeout=300))}
        time.sleep(2.0)  # let notify's sender and the relays finish what the last cases caused
        cases = max(1, peak_row["completed"])
        cpu = cpu_per_case(before, cpu_seconds(cluster), cases)
        trips = round_trips_per_case(trips, roundtrips.totals(counts_dir), cases)
        print(_row(peak_row), flush=True)
        print("CPU ms per case: " + ", ".join(f"{k} {v}" for k, v in cpu.items()), flush=True)
        print("database round trips per case: " + ", ".join(f"{k} {v}" for k, v in trips.items()), flush=True)
        peak_row["cpu_ms_per_case"] = cpu
        peak_row["db_per_case"] = trips
        surge_row = surge(url, headers, bound["at_surge_rate"]["accepted_rps"])
    except Exception:
        sys.stderr.write(cluster.logs())
        raise
    finally:
        cluster.close()
    at_100 = next((s for s in steps if s["offered_rps"] == 100), None)
    return {
        "processes": {"apis_per_service": APIS, "workers_per_service": WORKERS, "worker_nice": WORKER_NICE},
        "bound": bound,
        "steps": steps,
        "peak": peak_row,
        "surge": surge_row,
        "summary": {
            "accepted_cases_per_s": peak_row["accepted_rps"],
            "pipeline_cases_per_s": peak_row["pipeline_cases_per_s"],
            "bound_inserts_per_s": bound["peak"]["accepted_rps"],
            "e2e_p99_ms_at_100_rps": at_100["e2e_ms"]["p99"] if at_100 else None,
            "cpu_ms_per_case": peak_row["cpu_ms_per_case"]["total"],
            "db_round_trips_per_case": peak_row["db_per_case"]["round_trips"],
            "surge_accepted_rps": surge_row["accepted_rps"],
            "surge_accepted_share_of_bound": surge_row["accepted_share_of_bound"],
            "surge_accepted_p99_ms": surge_row["accepted_ms"]["p99"],
            "surge_refused_p99_ms": surge_row["refused_ms"]["p99"],
            "surge_errors": surge_row["errors"],
            "targets": TARGETS,
        },
    }


HEADER = (f"{'offered/s':>10} {'accepted/s':>10} {'503':>6} {'errors':>6} {'http p50':>9} {'http p99':>9} "
          f"{'e2e p50':>8} {'e2e p95':>8} {'e2e p99':>8} {'pipeline/s':>10}")


def _row(r: dict) -> str:
    def f(v):
        return "-" if v is None else f"{v:.0f}" if isinstance(v, float) else str(v)

    return (f"{f(r['offered_rps']) if r['offered_rps'] else 'max':>10} {f(r['accepted_rps']):>10} {r['refused']:>6} "
            f"{r['errors']:>6} "
            f"{f(r['http_ms']['p50']):>9} {f(r['http_ms']['p99']):>9} {f(r['e2e_ms']['p50']):>8} "
            f"{f(r['e2e_ms']['p95']):>8} {f(r['e2e_ms']['p99']):>8} {f(r['pipeline_cases_per_s']):>10}")
