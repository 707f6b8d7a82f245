"""Reports over a million cases: each of intake's reports (services/intake/reports.py) for a
quarter and a year, as an admin (the whole city) and as a street (its area), beside a bound
measured in the same run: one `count(*)` over the same period's rows of the same table, the least
any report of the period must read.

1,000,000 cases spread over one year (5 streets × 10 communities × 5 grids, 40 categories, a
requester in 20 asking again) are generated in a private PostgreSQL database in one INSERT …
SELECT generate_series, with evaluations for one case in three.
"""

import os
import statistics
import time
from datetime import UTC, datetime

import psycopg
from sqlalchemy import text

from services.intake import reports
from services.intake.models import Base
from shared.auth import User
from shared.db import make_engine, session_factory
from shared.periods import parse

TITLE = "reports: intake's reports over 1,000,000 cases (quarter and year, city and street)"
PG_URL = os.environ.get("CG_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
CASES = int(os.environ.get("CG_REPORTS_BENCH_CASES", "1000000"))
REPEAT = int(os.environ.get("CG_REPORTS_BENCH_REPEAT", "5"))
DATABASE = "cg_bench_reports"
DISTRICT = "510107000000000"
STREET = "510107001000000"
YEAR = 2026
TARGET_MS = 2000  # a leader waits for a report as for a page: a couple of seconds at most


def _admin_dsn() -> str:
    return PG_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"


def generate(n: int) -> float:
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    engine = make_engine(f"{PG_URL}/{DATABASE}")
    Base.metadata.create_all(engine)
    engine.dispose()
    started = time.perf_counter()
    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://") + f"/{DATABASE}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("""
            INSERT INTO cases (id, case_no, reporter_id, appeal_type, category, description, lat, lon, grid_cell,
                channel, urgency, status, status_rank, mediation_seq, interest_count, reopen_count, anonymous,
                confidential, category_version, route, area_path, result_deadline, resolved_at, created_at,
                updated_at)
            SELECT md5('r' || g), 'R-' || g, 'u-' || (g %% (%(n)s / 20)), '投诉', 'cat.' || (g %% 40), 'x',
                   30.6 + (g %% 997) * 0.0001, 104.0 + (g %% 991) * 0.0001,
                   floor((30.6 + (g %% 997) * 0.0001 + 90) / 0.005)::bigint * 1000000
                     + floor((104.0 + (g %% 991) * 0.0001 + 180) / 0.005)::bigint,
                   'app', '一般', (ARRAY['dispatched','signed','closed','closed','closed','self_resolved'])[1 + g %% 6],
                   0, 0, 1 + g %% 5, g %% 7 / 6, false, false, 1, 'dispatch',
                   '/' || %(district)s || '/51010700' || (1 + g %% 5) || '000000/51010700' || (1 + g %% 5)
                     || lpad(((g / 5) %% 10 + 1)::text, 3, '0') || '000/g' || (g %% 50) || '/',
                   t + interval '5 days',
                   CASE WHEN g %% 6 IN (2, 3, 4, 5) THEN t + (g %% 8) * interval '1 day' END,
                   t, t
            FROM generate_series(1, %(n)s) g,
                 LATERAL (SELECT timestamptz '2026-01-01 00:00+08' + (g::float / %(n)s) * interval '365 days' AS t) p
        """, {"n": n, "district": DISTRICT})
        conn.execute("""
            INSERT INTO evaluations (case_id, evaluated, solved, satisfaction, via, at)
            SELECT id, true, (reopen_count = 0), CASE WHEN reopen_count = 0 THEN '满意' ELSE '不满意' END,
                   'resident', created_at FROM cases WHERE resolved_at IS NOT NULL AND (hashtext(id) % 3) = 0
        """)
        conn.execute("VACUUM ANALYZE cases")
        conn.execute("VACUUM ANALYZE evaluations")
    return time.perf_counter() - started


def timed(fn) -> float:
    runs = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(runs), 1)


COUNT = text("SELECT count(*) FROM cases WHERE created_at >= :a AND created_at < :b")


def measure(s, period, users: dict[str, User], now: datetime) -> dict:
    bounds = {"a": period.start.astimezone(UTC), "b": period.end.astimezone(UTC)}
    figures = {"period_rows": s.execute(COUNT, bounds).scalar(),
               "bound_count_ms": timed(lambda: s.execute(COUNT, bounds).scalar())}
    for who, user in users.items():
        figures[f"summary_by_street_{who}"] = timed(lambda u=user: reports.summary(s, u, period, "street", now))
        figures[f"summary_by_category_{who}"] = timed(lambda u=user: reports.summary(s, u, period, "category", now))
        figures[f"hotspots_{who}"] = timed(lambda u=user: reports.hotspots(s, u, period, None, 200))
        figures[f"repeats_{who}"] = timed(lambda u=user: reports.repeats(s, u, period, 30, 2, 100))
        figures[f"unresolved_{who}"] = timed(lambda u=user: reports.unresolved(s, u, None, 20, now=now))
    return figures


def run() -> dict:
    seconds = generate(CASES)
    engine = make_engine(f"{PG_URL}/{DATABASE}")
    sessions = session_factory(engine)
    users = {"city": User(id="bench-admin", role="admin"),
             "street": User(id="bench-street", role="street_dispatcher", unit_code=STREET)}
    now = datetime(YEAR + 1, 1, 15, tzinfo=UTC)
    out: dict = {"cases": CASES, "generate_seconds": round(seconds, 1), "repeat": REPEAT, "median_ms": {}}
    try:
        with sessions() as s:
            for label in (f"{YEAR}-Q4", str(YEAR)):
                out["median_ms"][label] = measure(s, parse(label), users, now)
    finally:
        engine.dispose()
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    worst = max(v for f in out["median_ms"].values() for k, v in f.items() if k not in ("period_rows",
                                                                                          "bound_count_ms"))
    out["summary"] = {"worst_report_ms": worst, "target_ms": TARGET_MS, "within_target": worst <= TARGET_MS}
    print(f"{CASES:,} cases generated in {seconds:.1f} s; median of {REPEAT} runs, ms:")
    for label, figures in out["median_ms"].items():
        print(f"  {label} ({figures['period_rows']:,} rows; bound count(*) {figures['bound_count_ms']} ms)")
        for k, v in figures.items():
            if k not in ("period_rows", "bound_count_ms"):
                print(f"    {k:32} {v:>8}  ({v / max(figures['bound_count_ms'], 0.1):.1f}× bound)")
    print(f"worst report {worst} ms (target ≤ {TARGET_MS})")
    return out
