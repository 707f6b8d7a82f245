"""The ledgers (台账) streets are asked for every month, and the figures per grid worker and grid: patrols,
care visits, register changes and 自办自结 — CSV or XLSX (shared/exports.py), the caller's area only. No ledger
holds a personal field: people are named by their register id, changes by the fields they touched."""

import re
from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from shared import exports
from shared.config import local_zone
from shared.errors import ApiError

from . import config, patrols
from .models import Change, Finding, GridReport, Patrol, Visit

KINDS = ("patrols", "visits", "register-changes", "self-resolved")
SHEETS = {"patrols": "巡查台账", "visits": "走访台账", "register-changes": "台账变更", "self-resolved": "自办自结台账"}


def month_bounds(month: str) -> tuple[datetime, datetime]:
    if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month):
        raise ApiError(422, "ledger.bad_month", field="month")
    year, mon = int(month[:4]), int(month[5:])
    start = datetime(year, mon, 1, tzinfo=local_zone())
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=local_zone())
    return start, end


def _local(at: datetime | None) -> str:
    return at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M") if at else ""


def table(session: Session, kind: str, month: str, within) -> tuple[list[str], list[list]]:
    """(headers, rows) of a ledger; `within(column)`: the caller's grids as a filter."""
    start, end = month_bounds(month)
    if kind == "patrols":
        findings = patrols.counted(select(Finding.patrol_id, func.count().label("n")).select_from(Finding)
                                   ).group_by(Finding.patrol_id).subquery()
        rows = session.execute(
            select(Patrol, func.coalesce(findings.c.n, 0)).outerjoin(findings, findings.c.patrol_id == Patrol.id)
            .where(within(Patrol.grid_code), Patrol.status == "finished", Patrol.started_at >= start,
                   Patrol.started_at < end).order_by(Patrol.started_at, Patrol.id)).all()
        return (["日期", "网格", "网格员", "开始", "结束", "里程(米)", "轨迹点", "发现", "计入双巡"],
                [[p.day, p.grid_code, p.worker_id, _local(p.started_at), _local(p.finished_at), p.distance_m,
                  p.point_count, n, "是" if p.counts else "否"] for p, n in rows])
    if kind == "visits":
        rows = session.scalars(select(Visit).where(within(Visit.grid_code), Visit.visited_at >= start,
                                                   Visit.visited_at < end).order_by(Visit.visited_at, Visit.id))
        names = {c.code: c.name for c in config.get().categories.categories}
        return (["走访时间", "网格", "走访人", "对象编号", "对象类别", "需要帮助"],
                [[_local(v.visited_at), v.grid_code, v.worker_id, v.person_id, names.get(v.category, v.category),
                  "是" if v.help_needed else "否"] for v in rows])
    if kind == "register-changes":
        rows = session.scalars(select(Change).where(within(Change.grid_code), Change.at >= start, Change.at < end)
                               .order_by(Change.at, Change.id))
        actions = {"created": "新增", "updated": "修改", "imported": "导入"}
        return (["时间", "网格", "记录编号", "类型", "操作", "版本", "字段", "操作人"],
                [[_local(c.at), c.grid_code, c.entry_id, c.kind, actions.get(c.action, c.action), c.version,
                  "、".join(c.fields or []), c.by_id or ""] for c in rows])
    if kind == "self-resolved":
        rows = session.scalars(select(GridReport).where(within(GridReport.grid_code), GridReport.self_resolved,
                                                        GridReport.submitted_at >= start, GridReport.submitted_at < end)
                               .order_by(GridReport.submitted_at, GridReport.case_id))
        return (["时间", "网格", "网格员", "诉求编号"],
                [[_local(r.submitted_at), r.grid_code, r.reporter_id or "", r.case_no] for r in rows])
    raise ApiError(404, "not_found", field="kind")


def export(session: Session, kind: str, fmt: str, month: str, within) -> bytes:
    if fmt not in exports.MEDIA_TYPES:
        raise ApiError(422, "ledger.bad_format", field="format")
    headers, rows = table(session, kind, month, within)
    if len(rows) > config.get().rules.ledger_max_rows:
        raise ApiError(422, "ledger.too_large", field="month")
    return exports.table(fmt, SHEETS[kind], headers, rows)


def statistics(session: Session, month: str, within, by_worker: bool) -> list[dict]:
    """Per grid (and per worker): finished patrols, their distance and findings, 自办自结, visits."""
    start, end = month_bounds(month)
    out: dict[tuple, dict] = defaultdict(lambda: {"patrols": 0, "distance_m": 0.0, "findings": 0,
                                                  "self_resolved": 0, "visits": 0})

    def key(grid: str, worker: str | None) -> tuple:
        return (grid, worker if by_worker else None)

    span: ColumnElement = (Patrol.started_at >= start) & (Patrol.started_at < end)
    for grid, worker, n, distance in session.execute(
            select(Patrol.grid_code, Patrol.worker_id, func.count(), func.coalesce(func.sum(Patrol.distance_m), 0))
            .where(within(Patrol.grid_code), Patrol.status == "finished", span)
            .group_by(Patrol.grid_code, Patrol.worker_id)):
        row = out[key(grid, worker)]
        row["patrols"] += n
        row["distance_m"] += float(distance)
    for grid, worker, n in session.execute(
            patrols.counted(select(Patrol.grid_code, Patrol.worker_id, func.count()).select_from(Finding))
            .where(within(Patrol.grid_code), Patrol.status == "finished", span)
            .group_by(Patrol.grid_code, Patrol.worker_id)):
        out[key(grid, worker)]["findings"] += n
    for grid, worker, n in session.execute(
            select(GridReport.grid_code, GridReport.reporter_id, func.count())
            .where(within(GridReport.grid_code), GridReport.self_resolved, GridReport.submitted_at >= start,
                   GridReport.submitted_at < end).group_by(GridReport.grid_code, GridReport.reporter_id)):
        out[key(grid, worker)]["self_resolved"] += n
    for grid, worker, n in session.execute(
            select(Visit.grid_code, Visit.worker_id, func.count())
            .where(within(Visit.grid_code), Visit.visited_at >= start, Visit.visited_at < end)
            .group_by(Visit.grid_code, Visit.worker_id)):
        out[key(grid, worker)]["visits"] += n
    return [{"grid_code": g, "worker_id": w, **{k: (round(v, 1) if k == "distance_m" else v) for k, v in row.items()}}
            for (g, w), row in sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
