"""Scale-out: the pipeline's peak with 1, then 2 (CG_BENCH_SCALEOUT, e.g. "1,2,3") API and worker processes per
service, each count on a fresh services-mode cluster (services.cluster.Cluster `apis`/`workers`: a service's
APIs share its port by SO_REUSEPORT). Beside each: the one-INSERT bound measured on that same cluster, so a
busier machine shows up as a lower bound rather than as a worse configuration."""

import asyncio
import json
import os
import sys

from services.cluster import ROOT, Cluster

from .bound_app import bound_body, bound_server
from .load import run_step
from .slice import (
    AMQP_URL,
    PEAK_CONCURRENCY,
    PG_URL,
    STEP_SECONDS,
    WORKER_NICE,
    await_pipeline,
    case_body,
    cpu_per_case,
    cpu_seconds,
    e2e_summary,
    http_summary,
)

TITLE = "scale-out: pipeline peak with more API and worker processes per service"
COUNTS = [int(n) for n in os.environ.get("CG_BENCH_SCALEOUT", "1,2").split(",")]


def peak(n: int) -> dict:
    log_dir = ROOT / "var" / "bench" / "logs" / f"scaleout-{n}"
    cluster = Cluster(PG_URL, AMQP_URL, log_dir, tag="scale", apis=n, workers=n, worker_nice=WORKER_NICE)
    try:
        cluster.up()
        url = f"{cluster.url('intake')}/intake/v1/cases"
        headers = {"Authorization": f"Bearer {cluster.token('resident')}"}
        asyncio.run(run_step(url, case_body, headers, rate=50, duration=2.0))  # warm-up
        with bound_server(cluster.database_url("intake"), log_dir / "bound.log") as bound_url:
            bound = asyncio.run(run_step(bound_url, bound_body, {}, rate=None, duration=STEP_SECONDS,
                                         concurrency=PEAK_CONCURRENCY))
        before = cpu_seconds(cluster)
        # More APIs take more requests in flight: the closed loop keeps each of them as busy as one was.
        step = asyncio.run(run_step(url, case_body, headers, rate=None, duration=STEP_SECONDS * 2,
                                    concurrency=PEAK_CONCURRENCY * n, keep_bodies=True))
        ids = [json.loads(b)["id"] for b in step.bodies]
        row = {**http_summary(step), **e2e_summary(await_pipeline(cluster, ids, timeout=300))}
        cpu = cpu_per_case(before, cpu_seconds(cluster), max(1, row["completed"]))
    except Exception:
        sys.stderr.write(cluster.logs())
        raise
    finally:
        cluster.close()
    return {"processes_per_service": n, "accepted_rps": row["accepted_rps"], "refused": row["refused"],
            "errors": row["errors"], "pipeline_cases_per_s": row["pipeline_cases_per_s"],
            "e2e_p99_ms": row["e2e_ms"]["p99"], "cpu_ms_per_case": cpu["total"],
            "bound_inserts_per_s": round(bound.accepted_rps, 1)}


def run() -> dict:
    print(f"{'processes':>9} {'accepted/s':>10} {'pipeline/s':>10} {'e2e p99':>8} {'CPU ms':>7} {'bound/s':>8}")
    rows = []
    for n in COUNTS:
        r = peak(n)
        rows.append(r)
        print(f"{n:>9} {r['accepted_rps']:>10} {r['pipeline_cases_per_s'] or '-':>10} {r['e2e_p99_ms'] or '-':>8} "
              f"{r['cpu_ms_per_case']:>7} {r['bound_inserts_per_s']:>8}", flush=True)
    return {"rows": rows}
