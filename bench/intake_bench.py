"""Intake: submission latency at 200 requests/s in services mode, and the duplicate lookup
against 1,000,000 stored cases — each beside a bound measured in the same run.

- submission: POST /intake/v1/cases (validation, case number, duplicate lookup, outbox) at
  200/s through the real services-mode cluster (PostgreSQL + RabbitMQ). Bound: a minimal
  FastAPI endpoint doing one INSERT into the same PostgreSQL, at the same rate.
- duplicates: 1,000,000 cases bulk-generated in intake's PostgreSQL database (generate_series,
  one statement), then `duplicates.find` for random points and texts. Bound: one indexed
  point query (case_no) on the same table through the same session.
"""

import asyncio
import os
import random
import sys
import time

import psycopg

from services.cluster import ROOT, Cluster
from services.intake.catalogue import file_catalogue
from services.intake.models import Case
from services.intake.suggest import load_examples
from shared.db import make_engine, session_factory, utcnow

from .bound_app import bound_body, bound_server
from .load import percentile, run_step

TITLE = "intake: submission p99 at 200/s (services mode) and duplicate lookup over 1,000,000 cases"
PG_URL = os.environ.get("CG_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("CG_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RATE = int(os.environ.get("CG_INTAKE_BENCH_RATE", "200"))
STEP_SECONDS = float(os.environ.get("CG_INTAKE_BENCH_SECONDS", "10"))
STORED = int(os.environ.get("CG_INTAKE_BENCH_CASES", "1000000"))
LOOKUPS = int(os.environ.get("CG_INTAKE_BENCH_LOOKUPS", "2000"))
CENTRE = (30.63, 104.056)  # 玉林街道
SPREAD = 0.15  # degrees around it: about 16 km across, like a district
TARGETS = {"submit_p99_ms": 50, "duplicate_p99_ms": 20}

EXAMPLES = load_examples()


def case_body(i: int) -> dict:
    code, sentence = EXAMPLES[i % len(EXAMPLES)]
    rng = random.Random(i)
    body = {"category": code, "description": f"{sentence}（第 {i} 条）", "channel": "app",
            "lat": CENTRE[0] + rng.uniform(-0.01, 0.01), "lon": CENTRE[1] + rng.uniform(-0.01, 0.01),
            "coord_system": "wgs84"}
    for q in file_catalogue().nodes[code].questions:
        if q.required:
            body.setdefault("answers", {})[q.key] = q.choices[0] if q.type == "choice" else 3
    if file_catalogue().nodes[code].route == "mediation" or code == "consult.policy":
        body["category"] = "env.garbage"
    return body


def ms(step) -> dict:
    return {"offered_rps": step.offered_rps, "sent": step.sent, "accepted": step.accepted, "errors": step.errors,
            "accepted_rps": round(step.accepted_rps, 1),
            "p50": percentile(step.latencies_ms, 50), "p95": percentile(step.latencies_ms, 95),
            "p99": percentile(step.latencies_ms, 99)}


def submission(cluster: Cluster, log_dir) -> dict:
    url = f"{cluster.url('intake')}/intake/v1/cases"
    headers = {"Authorization": f"Bearer {cluster.token('resident')}"}
    asyncio.run(run_step(url, case_body, headers, rate=50, duration=3.0))  # warm-up (model, pools, plans)
    with bound_server(cluster.database_url("intake"), log_dir / "intake_bound.log") as bound_url:
        asyncio.run(run_step(bound_url, bound_body, {}, rate=100, duration=1.0))
        bound = asyncio.run(run_step(bound_url, bound_body, {}, rate=RATE, duration=STEP_SECONDS))
    step = asyncio.run(run_step(url, lambda i: case_body(i + 100_000), headers, rate=RATE, duration=STEP_SECONDS))
    return {"intake": ms(step), "bound": {**ms(bound), "what": "one INSERT endpoint, same PostgreSQL, same rate"}}


def generate(dsn: str, n: int) -> float:
    """n cases of mixed categories, points, texts and ages, in one INSERT … SELECT generate_series."""
    codes = [c for c, node in file_catalogue().nodes.items() if node.leaf]
    texts = [s for _, s in EXAMPLES]
    statuses = ["submitted", "dispatched", "signed", "contacted", "resolved", "closed", "closed", "closed"]
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("""
            INSERT INTO cases (id, case_no, reporter_id, appeal_type, category, description, lat, lon, grid_cell,
                channel, urgency, status, status_rank, mediation_seq, interest_count, reopen_count,
                anonymous, confidential, category_version, route, created_at, updated_at)
            SELECT md5('bench' || g), 'B-' || g, 'u-bench-' || (g %% 50000), '投诉',
                   (%(codes)s::text[])[1 + g %% %(nc)s],
                   (%(texts)s::text[])[1 + (g * 7) %% %(nt)s],
                   p.lat, p.lon,
                   floor((p.lat + 90) / 0.005)::bigint * 1000000 + floor((p.lon + 180) / 0.005)::bigint,
                   'app', '一般', (%(statuses)s::text[])[1 + g %% 8], 0, 0, 1, 0, false, false, 1, 'dispatch',
                   now() - (g %% 86400) * interval '1 minute', now()
            FROM generate_series(1, %(n)s) g,
                 LATERAL (SELECT %(lat)s + (random() - 0.5) * %(spread)s + g * 0 AS lat,
                                 %(lon)s + (random() - 0.5) * %(spread)s AS lon) p
        """, {"codes": codes, "nc": len(codes), "texts": texts, "nt": len(texts), "statuses": statuses,
              "n": n, "lat": CENTRE[0], "lon": CENTRE[1], "spread": SPREAD})
        conn.execute("ANALYZE cases")
    return time.perf_counter() - started


def duplicate_lookup(cluster: Cluster) -> dict:
    from services.intake import duplicates

    dsn = cluster.database_url("intake").replace("postgresql+psycopg://", "postgresql://")
    seconds = generate(dsn, STORED)
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM cases WHERE category = 'env.garbage' AND grid_cell = ANY(%s) "
            "AND created_at >= now() - interval '3 days'", ([24126056056, 24126056057],)))
    engine = make_engine(cluster.database_url("intake"))
    sessions = session_factory(engine)
    catalogue = file_catalogue()
    codes = [c for c, node in catalogue.nodes.items() if node.leaf and node.radius_m > 0 and node.window_days > 0]
    rng = random.Random(42)
    lookup_ms, bound_ms, found = [], [], 0
    now = utcnow()
    with sessions() as session:
        for i in range(LOOKUPS + 50):
            node = catalogue.nodes[rng.choice(codes)]
            lat = CENTRE[0] + (rng.random() - 0.5) * SPREAD
            lon = CENTRE[1] + (rng.random() - 0.5) * SPREAD
            text = rng.choice(EXAMPLES)[1]
            t0 = time.perf_counter()
            hits = duplicates.find(session, node, text, lat, lon, now=now)
            t1 = time.perf_counter()
            session.query(Case.id).filter(Case.case_no == f"B-{rng.randint(1, STORED)}").first()
            t2 = time.perf_counter()
            if i >= 50:  # the first few warm the plan cache
                lookup_ms.append((t1 - t0) * 1000)
                bound_ms.append((t2 - t1) * 1000)
                found += bool(hits)
    engine.dispose()
    return {"stored_cases": stored, "generate_seconds": round(seconds, 1), "lookups": len(lookup_ms),
            "lookups_with_offers": found, "plan": plan,
            "lookup_ms": {"p50": percentile(lookup_ms, 50), "p95": percentile(lookup_ms, 95),
                          "p99": percentile(lookup_ms, 99)},
            "bound_ms": {"what": "one indexed point query (case_no) on the same table and session",
                         "p50": percentile(bound_ms, 50), "p99": percentile(bound_ms, 99)}}


def run() -> dict:
    log_dir = ROOT / "var" / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(PG_URL, AMQP_URL, log_dir, tag="intake")
    try:
        cluster.up()
        sub = submission(cluster, log_dir)
        dup = duplicate_lookup(cluster)
    except Exception:
        sys.stderr.write(cluster.logs())
        raise
    finally:
        cluster.close()
    i, b = sub["intake"], sub["bound"]
    print(f"{'':28} {'offered/s':>9} {'accepted/s':>10} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for name, r in (("POST /intake/v1/cases", i), ("bound: one INSERT", b)):
        print(f"{name:28} {r['offered_rps']:>9} {r['accepted_rps']:>10} {r['errors']:>6} {r['p50']:>7} "
              f"{r['p95']:>7} {r['p99']:>7}")
    d = dup
    print(f"\nduplicate lookup over {d['stored_cases']:,} cases (generated in {d['generate_seconds']} s), "
          f"{d['lookups']} lookups, {d['lookups_with_offers']} with offers:")
    print(f"  lookup p50 {d['lookup_ms']['p50']} ms, p99 {d['lookup_ms']['p99']} ms "
          f"(target ≤ {TARGETS['duplicate_p99_ms']}); bound p99 {d['bound_ms']['p99']} ms")
    print(f"submission p99 {i['p99']} ms at {RATE}/s (target ≤ {TARGETS['submit_p99_ms']}); bound p99 {b['p99']} ms")
    return {"submission": sub, "duplicates": dup,
            "summary": {"submit_p99_ms": i["p99"], "submit_bound_p99_ms": b["p99"],
                        "duplicate_p99_ms": d["lookup_ms"]["p99"], "duplicate_bound_p99_ms": d["bound_ms"]["p99"],
                        "targets": TARGETS}}
