"""The figures leaders ask for, over the cases of the caller's area: a period's summary, hotspots by
place and category over time, repeat requests, and the top unresolved matters.

Every figure is a set-based query (a GROUP BY the database does) bounded by the period's
`created_at` range and the caller's area, so a report over a million cases costs one scan of the
period's rows, never a row per case in Python. Grouping by street or community groups by the
case's area path in SQL (a few thousand distinct grids at most) and folds the paths into their
street or community here: portable between PostgreSQL and SQLite, and no string functions in SQL.

Reports carry case numbers and counts, never a requester: a repeat requester is shown by the case
numbers of her requests, whose reading goes through the case's own access rules.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.config import local_zone
from shared.periods import Period, month_start

from . import access, config
from .models import Case, Evaluation
from .status import FINISHED, OPEN, label

SATISFIED = ("满意", "基本满意")
GROUPS = ("street", "community", "category", "appeal_type", "channel", "matter_class")
# The depth of each area level in a path "/district/street/community/grid/".
AREA_DEPTH = {"street": 2, "community": 3}
SUMMARY_COUNTS = ("received", "finished", "resolved", "resolved_on_time", "open", "open_overdue", "reopened",
                  "self_resolved", "interest")
EVALUATION_COUNTS = ("evaluated", "solved", "satisfied")


def _count(cond):
    return func.coalesce(func.count().filter(cond), 0)


def _in_period(period: Period):
    return and_(Case.created_at >= period.start.astimezone(UTC), Case.created_at < period.end.astimezone(UTC),
                Case.parent_case_id.is_(None))


def _area_key(path: str | None, level: str) -> str | None:
    if not path:
        return None
    parts = path.strip("/").split("/")
    depth = AREA_DEPTH[level]
    return parts[depth - 1] if len(parts) >= depth else None


def _rate(num: int, den: int) -> float | None:
    return None if not den else round(100.0 * num / den, 2)


def summary(session: Session, user: User, period: Period, group_by: str, now: datetime | None = None) -> list[dict]:
    """One row per group: the counts and the rates of the period's cases (merged duplicates count in
    their parent only). `open_overdue`: still open past its result deadline now."""
    now = now or datetime.now(UTC)
    area = group_by in AREA_DEPTH
    key = Case.area_path if area else getattr(Case, group_by)
    c = Case
    counts = select(
        key.label("key"), func.count().label("received"),
        _count(c.status.in_(FINISHED)).label("finished"),
        _count(c.resolved_at.is_not(None)).label("resolved"),
        _count(and_(c.resolved_at.is_not(None),
                    or_(c.result_deadline.is_(None), c.resolved_at <= c.result_deadline))).label("resolved_on_time"),
        _count(c.status.in_(OPEN)).label("open"),
        _count(and_(c.status.in_(OPEN), c.result_deadline < now)).label("open_overdue"),
        _count(c.reopen_count > 0).label("reopened"),
        _count(c.status == "self_resolved").label("self_resolved"),
        func.coalesce(func.sum(c.interest_count), 0).label("interest"),
    ).where(_in_period(period), access.report_scope(user)).group_by(key)
    evaluations = (
        select(key.label("key"), _count(Evaluation.evaluated.is_(True)).label("evaluated"),
               _count(and_(Evaluation.evaluated.is_(True), Evaluation.solved.is_(True))).label("solved"),
               _count(and_(Evaluation.evaluated.is_(True), Evaluation.satisfaction.in_(SATISFIED))).label("satisfied"))
        .join(Case, Case.id == Evaluation.case_id)
        .where(_in_period(period), access.report_scope(user)).group_by(key))
    rows: dict = defaultdict(lambda: dict.fromkeys(SUMMARY_COUNTS + EVALUATION_COUNTS, 0))
    for stmt, names in ((counts, SUMMARY_COUNTS), (evaluations, EVALUATION_COUNTS)):
        for r in session.execute(stmt):
            group = _area_key(r.key, group_by) if area else r.key
            for name in names:
                rows[group][name] += getattr(r, name)
    out = []
    for group, n in rows.items():
        out.append({"key": group, "counts": dict(n), "rates": {
            "completion": _rate(n["resolved"], n["received"]),
            "on_time": _rate(n["resolved_on_time"], n["resolved"]),
            "solved": _rate(n["solved"], n["evaluated"]),
            "satisfaction": _rate(n["satisfied"], n["evaluated"])}})
    out.sort(key=lambda r: (-r["counts"]["received"], r["key"] or ""))
    return out


def summary_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    headers = ["分组", "受理", "已结束", "已办结", "按期办结", "未办结", "超期未办结", "重启", "自办自结", "关注人数",
               "已评价", "已解决", "满意", "办结率%", "按期率%", "解决率%", "满意率%"]
    return headers, [[r["key"] or "（未定位）", *r["counts"].values(), *r["rates"].values()] for r in rows]


# --------------------------------------------------------------------------- hotspots


def cell_polygon(cell: int, size: float) -> list[list[float]]:
    """The square of a duplicate-index cell (geo.cell_of: row * 1e6 + column) as a GeoJSON ring."""
    row, column = divmod(cell, 1_000_000)
    south, west = row * size - 90.0, column * size - 180.0
    north, east = south + size, west + size
    return [[round(x, 6), round(y, 6)] for x, y in
            ((west, south), (east, south), (east, north), (west, north), (west, south))]


def hotspots(session: Session, user: User, period: Period, category: str | None, limit: int) -> dict:
    """The period's located cases counted per cell, per category and per month, the `limit` busiest
    cells as a GeoJSON FeatureCollection (WGS-84, as GeoJSON requires)."""
    size = config.get().duplicates.cell_degrees
    # The month of each row as a CASE over the period's month starts: one scan for any period, in
    # SQL both databases understand.
    starts = [month_start(m).astimezone(UTC) for m in period.months[1:]]
    month = case(*[(Case.created_at < start, period.months[i]) for i, start in enumerate(starts)],
                 else_=period.months[-1]) if starts else literal(period.months[0])
    stmt = (select(Case.grid_cell, Case.category, month.label("month"), func.count())
            .where(_in_period(period), Case.grid_cell.is_not(None), access.report_scope(user))
            .group_by(Case.grid_cell, Case.category, month))
    if category:
        stmt = stmt.where(Case.category.startswith(category, autoescape=True))
    cells: dict[int, dict] = {}
    for cell, cat, in_month, n in session.execute(stmt):
        spot = cells.setdefault(cell, {"count": 0, "categories": defaultdict(int), "months": defaultdict(int)})
        spot["count"] += n
        spot["categories"][cat] += n
        spot["months"][in_month] += n
    busiest = sorted(cells.items(), key=lambda kv: (-kv[1]["count"], kv[0]))[:limit]
    features = [{
        "type": "Feature", "id": str(cell),
        "geometry": {"type": "Polygon", "coordinates": [cell_polygon(cell, size)]},
        "properties": {"cell": str(cell), "count": spot["count"],
                       "categories": dict(sorted(spot["categories"].items(), key=lambda kv: -kv[1])),
                       "months": dict(sorted(spot["months"].items()))},
    } for cell, spot in busiest]
    return {"type": "FeatureCollection", "period": period.label, "cell_degrees": size,
            "cells_total": len(cells), "features": features}


def hotspot_table(collection: dict) -> tuple[list[str], list[list]]:
    headers = ["网格单元", "西南角经度", "西南角纬度", "类别", "月份", "件数"]
    rows = []
    for f in collection["features"]:
        west, south = f["geometry"]["coordinates"][0][0]
        for cat, n in f["properties"]["categories"].items():
            rows.append([f["properties"]["cell"], west, south, cat, "", n])
        for month, n in f["properties"]["months"].items():
            rows.append([f["properties"]["cell"], west, south, "", month, n])
    return headers, rows


# --------------------------------------------------------------------------- repeat requests


@dataclass
class Repeat:
    kind: str  # place / requester
    category: str
    cases: list[tuple[str, str, datetime]]  # (id, case_no, created_at), in order

    def view(self) -> dict:
        tz = local_zone()
        return {"kind": self.kind, "category": self.category, "count": len(self.cases),
                "first_at": self.cases[0][2].astimezone(tz).isoformat(),
                "last_at": self.cases[-1][2].astimezone(tz).isoformat(),
                "case_ids": [c[0] for c in self.cases], "case_nos": [c[1] for c in self.cases]}


def _chains(rows, window: timedelta, minimum: int) -> list[list]:
    """Runs of requests whose neighbours are at most `window` apart, of at least `minimum`."""
    out, run = [], []
    for row in rows:
        if run and row[2] - run[-1][2] > window:
            if len(run) >= minimum:
                out.append(run)
            run = []
        run.append(row)
    if len(run) >= minimum:
        out.append(run)
    return out


def repeats(session: Session, user: User, period: Period, window_days: int, minimum: int, limit: int) -> list[dict]:
    """Requests repeated within `window_days`: at the same place (the same duplicate-index cell and
    category) or by the same requester about the same category. Only groups with `minimum` requests
    in the period are read row by row, so the cost follows the repeats, not the cases."""
    window = timedelta(days=window_days)
    requester = func.coalesce(Case.reporter_id, Case.reporter_phone_index)
    kinds = {"place": (Case.grid_cell, Case.grid_cell.is_not(None)),
             "requester": (requester, and_(requester.is_not(None), Case.anonymous.is_(False)))}
    found: list[Repeat] = []
    for kind, (key, present) in kinds.items():
        where = and_(_in_period(period), present, access.report_scope(user))
        # The groups with the most requests are read row by row, at most `limit` × 5 of them: the
        # longest runs lie among them, and the cost stays bounded however many cases repeat.
        groups = (select(key.label("k"), Case.category).where(where).group_by(key, Case.category)
                  .having(func.count() >= minimum).order_by(func.count().desc(), key, Case.category))
        candidates = [tuple(r) for r in session.execute(groups.limit(limit * 5))]
        by_group: dict[tuple, list] = defaultdict(list)
        for batch_start in range(0, len(candidates), 500):
            batch = candidates[batch_start:batch_start + 500]
            keys = {k for k, _ in batch}
            stmt = (select(key.label("k"), Case.category, Case.id, Case.case_no, Case.created_at)
                    .where(where, key.in_(keys)).order_by(Case.created_at))
            wanted = set(batch)
            for k, cat, case_id, case_no, at in session.execute(stmt):
                if (k, cat) in wanted:
                    by_group[(k, cat)].append((case_id, case_no, at))
        for (_, cat), rows in by_group.items():
            found.extend(Repeat(kind, cat, run) for run in _chains(rows, window, minimum))
    found.sort(key=lambda r: (-len(r.cases), r.cases[0][2]))
    return [r.view() for r in found[:limit]]


def repeat_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    headers = ["重复类型", "类别", "次数", "首次", "最近", "诉求编号"]
    kinds = {"place": "同一地点", "requester": "同一反映人"}
    return headers, [[kinds[r["kind"]], r["category"], r["count"], r["first_at"], r["last_at"],
                      " ".join(r["case_nos"])] for r in rows]


# --------------------------------------------------------------------------- top unresolved


def unresolved(session: Session, user: User, category: str | None, limit: int, english: bool = False,
               now: datetime | None = None) -> list[dict]:
    """The open matters most people wait on: by the number who joined, then reopenings, then age."""
    now = now or datetime.now(UTC)
    # Only the columns shown: no sealed text is read, let alone opened, for a list of numbers.
    c = Case
    stmt = (select(c.id, c.case_no, c.category, c.status, c.urgency, c.unit_name, c.created_at, c.interest_count,
                   c.reopen_count, c.result_deadline)
            .where(c.status.in_(OPEN), c.parent_case_id.is_(None), access.report_scope(user))
            .order_by(c.interest_count.desc(), c.reopen_count.desc(), c.created_at, c.id).limit(limit))
    if category:
        stmt = stmt.where(c.category.startswith(category, autoescape=True))
    tz = local_zone()
    return [{"case_id": r.id, "case_no": r.case_no, "category": r.category, "status": r.status,
             "status_label": label(r.status, english), "urgency": r.urgency, "unit_name": r.unit_name,
             "created_at": r.created_at.astimezone(tz).isoformat(),
             "age_days": (now - r.created_at).days, "interest_count": r.interest_count,
             "reopen_count": r.reopen_count,
             "overdue": r.result_deadline is not None and r.result_deadline < now}
            for r in session.execute(stmt)]


def unresolved_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    headers = ["诉求编号", "类别", "状态", "紧急程度", "承办单位", "受理时间", "已过天数", "关注人数", "重启次数",
               "是否超期"]
    return headers, [[r["case_no"], r["category"], r["status_label"], r["urgency"], r["unit_name"], r["created_at"],
                      r["age_days"], r["interest_count"], r["reopen_count"], "是" if r["overdue"] else "否"]
                     for r in rows]


# --------------------------------------------------------------------------- monthly ledgers (台账)

LEDGER_KINDS = {
    # 咨询 answered on the spot (from the knowledge base, by the hotline or the counter).
    "consultations": Case.status == "answered",
    # 自办自结: what the grid worker settled on patrol and recorded as handled.
    "self_resolved": Case.status == "self_resolved",
}
LEDGER_HEADERS = ["诉求编号", "受理时间", "渠道", "诉求类型", "类别", "状态", "办结时间", "登记人", "社区"]


def ledger(session: Session, user: User, period: Period, kind: str, limit: int) -> list[list]:
    """The period's cases of one kind, one row each, as the street's monthly ledger lists them. No
    requester and no free text: the ledger is handed on, the case itself is read under its rules."""
    tz = local_zone()

    def stamp(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""

    c = Case
    stmt = (select(c.case_no, c.created_at, c.channel, c.appeal_type, c.category, c.status, c.finished_at,
                   c.created_by_id, c.area_path)
            .where(_in_period(period), LEDGER_KINDS[kind], access.report_scope(user))
            .order_by(c.created_at, c.case_no).limit(limit))
    return [[r.case_no, stamp(r.created_at), r.channel, r.appeal_type, r.category, label(r.status),
             stamp(r.finished_at), r.created_by_id or "", _area_key(r.area_path, "community") or ""]
            for r in session.execute(stmt)]
