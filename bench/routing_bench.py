"""Routing benchmarks: locating a point's grid among 50,000 grid polygons, and the score query
over 1,000,000 work orders in PostgreSQL. Each is compared with a bound measured in the same run:
a brute-force scan of every polygon for the locator, a bare count of the same rows for the scores.
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

import shapely
from sqlalchemy import text

from services.routing import scores
from services.routing.locator import Locator
from services.routing.models import Base
from shared.db import make_engine, session_factory

TITLE = "routing: grid location among 50,000 polygons (p99 ≤ 1 ms); scores over 1,000,000 work orders (≤ 300 ms)"
GRIDS = 50_000
ORDERS = int(os.environ.get("CG_BENCH_ROUTING_ORDERS", 1_000_000))
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
    return {"locator": loc, "scores": sc}
