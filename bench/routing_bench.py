"""Routing benchmarks: locating a point's grid among 50,000 grid polygons, the score query over
1,000,000 work orders in PostgreSQL, and the routing worker's cost per case. Each is compared with a
bound measured in the same run: a brute-force scan of every polygon for the locator, a bare count of
the same rows for the scores, and for the worker the same cases on an empty database (its cost must
not grow with the history: within 20 % with HISTORY cases and work orders and 10,000 open orders on
the one grid worker who gets every case).
"""

import io
import json
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from sqlalchemy import select, text

from services.routing import scores
from services.routing.locator import Locator
from services.routing.models import Base
from shared.db import make_engine, session_factory

TITLE = ("routing: grid location among 50,000 polygons (p99 ≤ 1 ms); scores over 1,000,000 work orders (≤ 300 ms); "
         "worker CPU and round trips per case, flat (≤ 1.2×) with a long history")
GRIDS = 50_000
ORDERS = int(os.environ.get("CG_BENCH_ROUTING_ORDERS", 1_000_000))
# Cases and work orders already in the database for the worker's second measurement (the issue's
# figure; built by INSERT … SELECT generate_series in well under a minute).
HISTORY = int(os.environ.get("CG_BENCH_ROUTING_HISTORY", 1_000_000))
OPEN_ON_ONE = 10_000  # open orders on the grid worker who gets every benchmark case
# Per round and batch size: the database's CPU is read in 10 ms ticks, so enough cases that a tick is ~1 %.
WORKER_CASES = int(os.environ.get("CG_BENCH_ROUTING_CASES", 400))
ROUNDS = 3
PG_URL = os.environ.get("CG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


@dataclass
class FakeUnit:  # the columns Locator reads
    id: str
    code: str
    name: str
    level: str
    depth: int
    geometry: str


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def bench_locator(rng: random.Random) -> dict:
    side = 224  # 224 × 224 = 50,176 cells; the first 50,000 are grids
    size = 0.001  # about 100 m
    x0, y0 = 104.0, 30.5
    units, polygons = [], []
    for i in range(GRIDS):
        cx, cy = x0 + (i % side) * size, y0 + (i // side) * size
        ring = [[cx, cy], [cx + size, cy], [cx + size, cy + size], [cx, cy + size], [cx, cy]]
        units.append(FakeUnit(str(i), f"{510107000000000 + i:015d}", f"网格{i}", "grid", 3,
                              json.dumps({"type": "Polygon", "coordinates": [ring]})))
        polygons.append(shapely.Polygon(ring))
    t = time.perf_counter()
    locator = Locator(units)
    build = time.perf_counter() - t
    points = [(x0 + rng.random() * side * size, y0 + rng.random() * (GRIDS // side) * size) for _ in range(20_000)]
    lat = []
    for lon, la in points:
        s = time.perf_counter()
        locator.locate(lon, la)
        lat.append((time.perf_counter() - s) * 1000)
    # The bound: a vectorised brute-force test of every polygon for the same point.
    everything = shapely.from_wkb(shapely.to_wkb(polygons))  # an array, prepared once like the index
    shapely.prepare(everything)
    brute = []
    for lon, la in points[:300]:
        s = time.perf_counter()
        shapely.contains_xy(everything, lon, la).nonzero()
        brute.append((time.perf_counter() - s) * 1000)
    # A check that both agree (the index is not fast because it is wrong).
    for lon, la in points[:300]:
        hits = {int(u.unit_id) for u in locator.locate(lon, la)}
        assert hits == set(shapely.intersects_xy(polygons, lon, la).nonzero()[0].tolist())
    return {"polygons": GRIDS, "index_build_s": round(build, 2), "queries": len(lat),
            "p50_ms": round(pct(lat, 50), 4), "p99_ms": round(pct(lat, 99), 4), "max_ms": round(max(lat), 3),
            "bound_brute_force_p50_ms": round(pct(brute, 50), 3), "target_p99_ms": 1.0,
            "meets_target": pct(lat, 99) <= 1.0}


def _create_db() -> tuple[str, str]:
    import psycopg

    name = f"cg_bench_routing_{uuid.uuid4().hex[:8]}"
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin


def _drop_db(name: str, admin: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fill(engine, rng: random.Random) -> None:
    streets = [str(uuid.uuid4()) for _ in range(90)]
    units = [str(uuid.uuid4()) for _ in range(2_000)]
    cats = ["env.garbage", "env.noise", "facility.road", "utility.water", "property.service", "safety.dog"]
    sats = ["满意", "基本满意", "不满意", None]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cols = ("id", "case_id", "case_no", "unit_id", "street_id", "confidential", "category", "urgency", "role",
            "status", "seq", "dispatch_no", "designated", "reopened", "rule", "period", "created_at", "updated_at",
            "sign_late", "contact_late", "resolved_at", "result_late", "evaluated", "solved", "satisfaction",
            "excluded")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY work_orders ({', '.join(cols)}) FROM STDIN") as copy:
            buf = io.StringIO()
            for i in range(ORDERS):
                at = start + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
                resolved = rng.random() < 0.85
                evaluated = resolved and rng.random() < 0.7
                row = (str(uuid.uuid4()), str(uuid.uuid4()), "2026-000001", rng.choice(units), rng.choice(streets),
                       "f", rng.choice(cats), "一般", "lead" if rng.random() < 0.95 else "assist",
                       "closed" if resolved else "dispatched", "3", "1", "f", "f", "属地派单", at.strftime("%Y-%m"),
                       at.isoformat(), at.isoformat(), "t" if rng.random() < 0.1 else "f",
                       "t" if rng.random() < 0.1 else "f", at.isoformat() if resolved else "\\N",
                       ("t" if rng.random() < 0.2 else "f") if resolved else "\\N", "t" if evaluated else "\\N",
                       ("t" if rng.random() < 0.8 else "f") if evaluated else "\\N",
                       (rng.choice(sats[:3])) if evaluated else "\\N", "t" if rng.random() < 0.01 else "f")
                buf.write("\t".join(row) + "\n")
                if i % 50_000 == 49_999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE work_orders"))


def _time(fn, repeat: int = 7) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        s = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - s) * 1000)
    return statistics.median(samples)


def bench_scores(rng: random.Random) -> dict:
    name, admin = _create_db()
    engine = make_engine(f"{PG_URL}/{name}")
    try:
        Base.metadata.create_all(engine)
        t = time.perf_counter()
        _fill(engine, rng)
        fill_s = time.perf_counter() - t
        sessions = session_factory(engine)
        out = {"work_orders": ORDERS, "fill_s": round(fill_s, 1)}
        with sessions() as s:
            out["month_by_street_ms"] = round(_time(lambda: scores.scores(s, "2026-06", "street")), 1)
            out["month_by_unit_ms"] = round(_time(lambda: scores.scores(s, "2026-06", "unit")), 1)
            out["bound_month_count_ms"] = round(_time(lambda: s.execute(
                text("SELECT count(*) FROM work_orders WHERE period = '2026-06'")).scalar()), 1)
            # The whole year at once: every one of the million rows aggregated.
            year = tuple(f"2026-{m:02d}" for m in range(1, 13))
            out["year_by_street_ms"] = round(_time(lambda: scores.raw_counts(s, year, "street"), 3), 1)
            out["bound_full_count_ms"] = round(_time(lambda: s.execute(
                text("SELECT count(*) FROM work_orders")).scalar(), 3), 1)
        out["target_ms"] = 300
        out["meets_target"] = out["month_by_street_ms"] <= 300 and out["year_by_street_ms"] <= 300
        return out
    finally:
        engine.dispose()
        _drop_db(name, admin)


# ----------------------------------------------------------------------------- the routing worker

GRID1 = (104.052115, 30.6283)  # 玉林北路社区第一网格 (deploy/demo): every case lands on its one grid worker
GRID1_WORKER = "u-grid-worker-001001"


class RoundTrips:
    """Every statement the engine sends (before_cursor_execute: SAVEPOINT and RELEASE included) and
    every BEGIN, COMMIT and ROLLBACK of its connections: the database round trips of the worker; and
    the CPU its PostgreSQL backends spent (read from /proc: the server runs on this machine)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        self.kinds: dict[str, int] = {}
        self.backends: set[int] = set()
        for name in ("before_cursor_execute", "begin", "commit", "rollback"):
            event.listen(engine, name, self._counter(name))
        event.listen(engine, "connect", self._backend)
        engine.dispose()  # connections made from now on, so every backend is known

    def _backend(self, dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        self.backends.add(cur.fetchone()[0])
        cur.close()
        dbapi_conn.rollback()

    def database_cpu(self) -> float | None:
        """Seconds of CPU of the backends so far; None when /proc does not show them."""
        total, tick = 0, os.sysconf("SC_CLK_TCK")
        for pid in self.backends:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def _counter(self, name: str):
        def count(*args, **_kw):
            self.count += 1
            kind = name if name != "before_cursor_execute" else args[2].split(None, 1)[0].upper()
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return count

    def reset(self) -> None:
        self.count, self.kinds = 0, {}


def _cases(n: int, tag: str) -> list[bytes]:
    from shared.events import envelope_for
    from shared.events.intake import CaseSubmitted

    now = datetime.now(UTC)
    return [envelope_for(CaseSubmitted(
        case_id=str(uuid.uuid4()), case_no=f"2026-{tag}{i:06d}", category="env.garbage", channel="app",
        urgency="一般", matter_class="小事", lon=GRID1[0], lat=GRID1[1], reporter_id="u-resident-1",
        submitted_at=now)).to_bytes() for i in range(n)]


def _feed(dispatcher, bodies: list[bytes], batch: int, trips: RoundTrips) -> dict:
    """Cases through the dispatcher as a consumer hands them over, `batch` at a time: the worker
    process's CPU (this process's) and round trips per case."""
    trips.reset()
    cpu, wall, db = time.process_time(), time.perf_counter(), trips.database_cpu()
    for i in range(0, len(bodies), batch):
        results = dispatcher.handle_batch(bodies[i:i + batch])
        bad = [r for r in results if r.outcome.value != "ack"]
        assert not bad, bad[0].reason
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = trips.database_cpu()
    n = len(bodies)
    return {"cases": n, "batch": batch, "cpu_ms_per_case": round(cpu * 1000 / n, 2),
            "database_cpu_ms_per_case": None if db is None or after is None else round((after - db) * 1000 / n, 2),
            "wall_ms_per_case": round(wall * 1000 / n, 2), "round_trips_per_case": round(trips.count / n, 1),
            "by_kind_per_case": {k: round(v / n, 2) for k, v in sorted(trips.kinds.items(), key=lambda kv: -kv[1])}}


def _history(engine, n: int) -> float:
    """`n` closed cases with one closed work order each, and OPEN_ON_ONE open orders on GRID1's
    worker, written by set-based SQL (generate_series), then the statistics the planner needs."""
    from services.routing.models import Unit

    t = time.perf_counter()
    with engine.begin() as conn:
        units = [r[0] for r in conn.execute(select(Unit.id).where(Unit.level.in_(("grid", "department"))))]
        grid = conn.execute(select(Unit.id).where(Unit.code == "510107001001001")).scalar_one()
        conn.execute(text("""
            INSERT INTO routing_cases (case_id, case_no, seq, dispatch_count, state, category, matter_class,
                                       urgency, lat, lon, confidential, kind, submitted_at)
            SELECT md5('case' || g)::uuid::text, '2025-' || lpad(g::text, 9, '0'), 3, 1, 'active', 'env.garbage',
                   '小事', '一般', 30.6283, 104.052115, false, 'work', now() - make_interval(mins => g)
            FROM generate_series(1, :n) g"""), {"n": n})
        conn.execute(text("""
            INSERT INTO work_orders (id, case_id, case_no, unit_id, street_id, assignee_id, confidential, category,
                                     urgency, role, kind, status, seq, dispatch_no, designated, reopened, rule,
                                     period, created_at, updated_at, excluded)
            SELECT md5('order' || g)::uuid::text, md5('case' || g)::uuid::text, '2025-' || lpad(g::text, 9, '0'),
                   CASE WHEN g <= :open THEN :grid ELSE u.ids[1 + g % cardinality(u.ids)] END, NULL,
                   CASE WHEN g <= :open THEN :worker ELSE 'u-history-' || (g % 997) END, false, 'env.garbage',
                   '一般', 'lead', 'work', CASE WHEN g <= :open THEN 'dispatched' ELSE 'closed' END, 3, 1, false,
                   false, '属地派单', to_char(now() - make_interval(mins => g), 'YYYY-MM'),
                   now() - make_interval(mins => g), now() - make_interval(mins => g), false
            FROM generate_series(1, :n) g, (SELECT CAST(:units AS text[]) AS ids) u"""),
            {"n": n, "open": OPEN_ON_ONE, "grid": grid, "units": units, "worker": GRID1_WORKER})
        _after_history(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE routing_cases"))
        conn.execute(text("VACUUM ANALYZE work_orders"))
    return time.perf_counter() - t


def _after_history(conn) -> None:
    """What routing derives from the work orders, which were written behind its back: each person's
    open orders (as the migration that made the counter fills it)."""
    from services.routing import load

    load.recount(conn)


def _total(figures: dict) -> float:
    return figures["cpu_ms_per_case"] + (figures["database_cpu_ms_per_case"] or 0)


def bench_worker() -> dict:
    """The routing worker's cost per case (CPU of this process and of its PostgreSQL backends, round
    trips) on an empty database and on one with a long history, its bound. Two databases measured in
    alternating rounds, each figure the median round: the cores are shared, and a neighbour's burst
    then falls on both sides alike instead of on whichever ran second."""
    import tempfile

    from services.routing.service import SPEC
    from shared.config import get_settings

    sides: dict[str, tuple] = {}
    try:
        for side in ("empty", "history"):
            name, admin = _create_db()
            tmp = tempfile.TemporaryDirectory()
            rt = SPEC.runtime(get_settings(var_dir=Path(tmp.name), mode="embedded"), f"{PG_URL}/{name}")
            sides[side] = (name, admin, tmp, rt)
            SPEC.metadata.create_all(rt.engine)
            SPEC.seed(rt)
        out = {"history_cases": HISTORY, "history_work_orders": HISTORY, "open_orders_on_one_worker": OPEN_ON_ONE,
               "history_fill_s": round(_history(sides["history"][3].engine, HISTORY), 1)}
        feeders = {}
        for side, (*_, rt) in sides.items():
            dispatcher, trips = feeders[side] = (SPEC.dispatcher(rt), RoundTrips(rt.engine))
            _feed(dispatcher, _cases(60, "w"), 20, trips)  # warm: caches, the grid index, prepared statements
        runs: dict[str, dict[str, list]] = {side: {"batch_1": [], "batch_20": []} for side in sides}
        for r in range(ROUNDS):
            for batch, n in ((1, WORKER_CASES), (20, WORKER_CASES * 5 // 2)):  # batches cost less CPU: more cases
                for side, (dispatcher, trips) in feeders.items():
                    runs[side][f"batch_{batch}"].append(
                        _feed(dispatcher, _cases(n, f"{side[0]}{r}{batch}-"), batch, trips))
        for side in sides:
            out[side] = {b: sorted(rs, key=_total)[len(rs) // 2] for b, rs in runs[side].items()}
        # The bound is on the worker's CPU and its database's together: a count done by PostgreSQL is a
        # cost of the case too. The database's alone is shown beside it: the worker's share is larger and
        # noisier on shared cores and hid the count's growth (+33 % of the database's CPU per case in
        # batches of 20 before issue 15); what is left of it is inserting into larger indexes, read in
        # 10 ms ticks of well under a millisecond per case.
        batches = ("batch_1", "batch_20")
        out["flatness_cpu_history_over_empty"] = {
            b: round(_total(out["history"][b]) / _total(out["empty"][b]), 2) for b in batches}
        out["flatness_database_cpu_history_over_empty"] = {
            b: round((out["history"][b]["database_cpu_ms_per_case"] or 0)
                     / max(out["empty"][b]["database_cpu_ms_per_case"] or 0, 0.01), 2) for b in batches}
        out["bound_flatness"] = 1.2
        out["meets_target"] = all(r <= 1.2 for r in out["flatness_cpu_history_over_empty"].values())
        return out
    finally:
        for name, admin, tmp, rt in sides.values():
            rt.dispose()
            tmp.cleanup()
            _drop_db(name, admin)


def _print_worker(w: dict) -> None:
    for at in ("empty", "history"):
        for b in ("batch_1", "batch_20"):
            f = w[at][b]
            print(f"{'worker':<10} {at:<8} {b:<9} CPU {f['cpu_ms_per_case']:>6} ms/case "
                  f"(+ database {f['database_cpu_ms_per_case']} ms)  "
                  f"{f['round_trips_per_case']:>5} round trips/case  (wall {f['wall_ms_per_case']} ms)")
    print(f"{'worker':<10} flat: CPU (worker + database) with {w['history_cases']:,} cases + work orders and "
          f"{w['open_orders_on_one_worker']:,} open on one worker ÷ empty = {w['flatness_cpu_history_over_empty']}, "
          f"the database's alone {w['flatness_database_cpu_history_over_empty']} "
          f"(bound ≤ {w['bound_flatness']}; history built in {w['history_fill_s']} s)")


def run() -> dict:
    rng = random.Random(20261001)
    loc = bench_locator(rng)
    print(f"{'locator':<10} {loc['polygons']:>7} polygons  p50 {loc['p50_ms']:.4f} ms  p99 {loc['p99_ms']:.4f} ms  "
          f"(bound brute force p50 {loc['bound_brute_force_p50_ms']:.3f} ms; build {loc['index_build_s']} s)")
    try:
        sc = bench_scores(rng)
    except Exception as exc:  # no PostgreSQL: say so rather than invent a figure
        sc = {"skipped": f"{type(exc).__name__}: {exc}"[:200]}
        print(f"{'scores':<10} skipped: {sc['skipped']}")
        return {"locator": loc, "scores": sc}
    print(f"{'scores':<10} {sc['work_orders']:>7} orders  one month by street {sc['month_by_street_ms']} ms, "
          f"by unit {sc['month_by_unit_ms']} ms (bound count {sc['bound_month_count_ms']} ms); "
          f"whole year by street {sc['year_by_street_ms']} ms (bound count {sc['bound_full_count_ms']} ms)")
    worker = bench_worker()
    _print_worker(worker)
    return {"locator": loc, "scores": sc, "worker": worker}
