"""The ledgers' and statistics' arithmetic on a hand-built month, and the caller's area only."""

import csv
import io
from datetime import datetime, timedelta

from services.grid.models import Finding, GridReport, Patrol, Visit
from shared.config import local_zone

from .conftest import GRID, GRID_2, WORKER, P, auth

NOV = datetime(2026, 11, 3, 9, tzinfo=local_zone())
W2 = "u-grid-worker-001002"


def build(rt):
    with rt.uow() as s:
        rows = [(GRID, WORKER, NOV, 1200.0, True), (GRID, WORKER, NOV + timedelta(hours=6), 800.5, True),
                (GRID_2, W2, NOV, 500.0, False), (GRID, WORKER, NOV + timedelta(days=30), 999.0, True)]  # December
        for i, (grid, worker, start, metres, counts) in enumerate(rows):
            s.add(Patrol(id=f"p{i}", grid_code=grid, worker_id=worker, status="finished", started_at=start,
                         finished_at=start + timedelta(hours=1), day=start.date().isoformat(), distance_m=metres,
                         counts=counts, point_count=10))
        s.flush()
        s.add_all([Finding(case_id="c1", patrol_id="p0"), Finding(case_id="c2", patrol_id="p0"),
                   Finding(case_id="c3", patrol_id="p1"), Finding(case_id="c4", patrol_id="p2")])
        s.add_all([GridReport(case_id="c1", case_no="2026-11-000001", reporter_id=WORKER, grid_code=GRID,
                              self_resolved=True, submitted_at=NOV),
                   GridReport(case_id="c2", case_no="2026-11-000002", reporter_id=WORKER, grid_code=GRID,
                              self_resolved=False, submitted_at=NOV),
                   GridReport(case_id="c3", case_no="2026-11-000003", reporter_id=WORKER, grid_code=GRID,
                              self_resolved=False, submitted_at=NOV),
                   GridReport(case_id="c4", case_no="2026-11-000004", reporter_id=W2, grid_code=GRID_2,
                              self_resolved=True, submitted_at=NOV)])
        s.add_all([Visit(person_id="x", grid_code=GRID, worker_id=WORKER, visited_at=NOV, category="elderly_alone"),
                   Visit(person_id="y", grid_code=GRID_2, worker_id=W2, visited_at=NOV, category="disabled")])


def test_monthly_figures_add_up_per_grid_and_per_worker(client, rt):
    build(rt)
    h = auth(rt, "u-community-staff-001")
    rows = client.get(f"{P}/statistics", params={"month": "2026-11"}, headers=h).json()
    by = {r["grid_code"]: r for r in rows}
    assert (by[GRID]["patrols"], by[GRID]["distance_m"], by[GRID]["findings"], by[GRID]["self_resolved"],
            by[GRID]["visits"]) == (2, 2000.5, 3, 1, 1)
    assert (by[GRID_2]["patrols"], by[GRID_2]["findings"], by[GRID_2]["self_resolved"]) == (1, 1, 1)
    workers = client.get(f"{P}/statistics", params={"month": "2026-11", "by": "worker"}, headers=h).json()
    assert {(r["worker_id"], r["patrols"]) for r in workers} == {(WORKER, 2), (W2, 1)}


def test_ledgers_hold_the_callers_area_only(client, rt):
    build(rt)
    mine = client.get(f"{P}/ledgers/patrols", params={"month": "2026-11"}, headers=auth(rt, WORKER))
    table = list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig"))))
    assert table[0][0] == "日期" and [r[1] for r in table[1:]] == [GRID, GRID]
    assert [r[5] for r in table[1:]] == ["1200.0", "800.5"] and [r[7] for r in table[1:]] == ["2", "1"]
    other = client.get(f"{P}/ledgers/self-resolved", params={"month": "2026-11"},
                       headers=auth(rt, "u-community-staff-002"))
    assert len(list(csv.reader(io.StringIO(other.content.decode("utf-8-sig"))))) == 1  # only the header
    street = client.get(f"{P}/ledgers/self-resolved", params={"month": "2026-11", "format": "xlsx"},
                        headers=auth(rt, "u-street-dispatcher-1"))
    assert street.status_code == 200 and street.content[:2] == b"PK"
    assert client.get(f"{P}/ledgers/visits", params={"month": "2026-11"},
                      headers=auth(rt, "u-department-handler-900002")).status_code == 403
