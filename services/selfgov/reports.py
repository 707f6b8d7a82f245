"""议事 outcome figures for reports: per community (a street-level matter under its street) and period, how many
matters were raised, taken up, voted down, resolved and settled, and each stage's meetings by result.

A matter counts in the period in which it was raised (its `created_at`, local time: shared/periods.py); the
stages' meetings of those matters count with it, whenever they were held, so a period's row tells what became
of the matters raised in it.
"""

from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared import periods

from . import config
from .models import Area, Matter, Meeting

COLUMNS = ("raised", "declined", "withdrawn", "on_agenda", "rejected", "resolved", "settled", "open")


def outcomes(session: Session, period: periods.Period, within: tuple[str, ...] | None) -> list[dict]:
    query = select(Matter).where(Matter.created_at >= period.start, Matter.created_at < period.end)
    if within is not None:
        query = query.where(or_(*[Matter.path.startswith(p, autoescape=True) for p in within])) if within else \
            query.where(Matter.id.is_(None))
    matters = list(session.scalars(query))
    stages = config.get().consultation.stages
    rows: dict[str, dict] = {}
    by_id = {}
    for m in matters:
        code = m.community_code or m.street_code or ""
        row = rows.get(code)
        if row is None:
            area = session.get(Area, code)
            row = rows[code] = {"area_code": code, "area_name": area.name if area else code,
                                "level": area.level if area else None, "period": period.label,
                                **dict.fromkeys(COLUMNS, 0),
                                "stages": {s.code: {"passed": 0, "rejected": 0, "no_quorum": 0} for s in stages}}
        by_id[m.id] = row
        row["raised"] += 1
        if m.agenda_at is not None:
            row["on_agenda"] += 1
        if m.resolution_id is not None:
            row["resolved"] += 1
        if m.status in ("declined", "withdrawn", "rejected", "settled"):
            row[m.status] += 1
        else:  # proposed, on the agenda, published or being carried out
            row["open"] += 1
    if by_id:
        held = select(Meeting.matter_id, Meeting.stage_code, Meeting.result).where(
            Meeting.matter_id.in_(list(by_id)), Meeting.status == "held")
        for matter_id, stage, result in session.execute(held):
            counts = by_id[matter_id]["stages"].setdefault(stage, defaultdict(int))
            counts[result] = counts.get(result, 0) + 1
    return [rows[k] for k in sorted(rows)]


def table(rows: list[dict]) -> tuple[list[str], list[list]]:
    """The figures as a flat table for CSV: one column per stage and result."""
    stages = config.get().consultation.stages
    headers = ["统计期", "区域编码", "区域", "层级", "提出议题", "不予立项", "撤回", "列入议程", "否决", "形成决议",
               "办结", "进行中"]
    results = (("passed", "通过"), ("rejected", "未通过"), ("no_quorum", "未达法定人数"))
    headers += [f"{s.name}{word}" for s in stages for _, word in results]
    out = []
    for r in rows:
        line = [r["period"], r["area_code"], r["area_name"], r["level"], *[r[c] for c in COLUMNS]]
        line += [r["stages"].get(s.code, {}).get(key, 0) for s in stages for key, _ in results]
        out.append(line)
    return headers, out
