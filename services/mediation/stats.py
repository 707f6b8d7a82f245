"""Statistics (台账 as an export, never hand-made): accepted, 化解率, average duration, by type,
committee and mediator.

Definitions (docs/mediation.md): a dispute counts in the period in which it was applied for.
accepted = accepted for mediation (受理); succeeded = ended in an agreement in force (signed and sealed);
failed = terminated;
化解率 = succeeded / (succeeded + failed after acceptance) — refusals never started, a dispute
terminated before acceptance was never mediated, withdrawals were the applicant's choice, and open
disputes have no outcome yet; average duration = days from
acceptance to the end, over succeeded and failed disputes.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import local_zone

from . import config
from .models import STATUS_LABELS, Assignment, Committee, Dispute, Mediator


def _blank() -> dict:
    return {"applied": 0, "accepted": 0, "refused": 0, "withdrawn": 0, "succeeded": 0, "failed": 0, "open": 0,
            "_days": [], "_mediated": 0}


def _add(bucket: dict, d: Dispute) -> None:
    bucket["applied"] += 1
    if d.accepted_at is not None:
        bucket["accepted"] += 1
    if d.status in ("refused", "withdrawn", "succeeded", "failed"):
        bucket[d.status] += 1
    else:
        bucket["open"] += 1
    if d.status in ("succeeded", "failed") and d.accepted_at is not None:
        bucket["_mediated"] += 1
    if d.status in ("succeeded", "failed") and d.accepted_at is not None and d.closed_at is not None:
        bucket["_days"].append((d.closed_at - d.accepted_at).total_seconds() / 86400)


def _finish(bucket: dict) -> dict:
    days = bucket.pop("_days")
    concluded = bucket.pop("_mediated")
    bucket["resolution_rate"] = round(bucket["succeeded"] / concluded, 4) if concluded else None
    bucket["average_days"] = round(sum(days) / len(days), 2) if days else None
    return bucket


def compute(session: Session, date_from: datetime | None = None, date_to: datetime | None = None,
            committee_ids: list[str] | None = None) -> dict:
    query = select(Dispute)
    if date_from is not None:
        query = query.where(Dispute.applied_at >= date_from)
    if date_to is not None:
        query = query.where(Dispute.applied_at < date_to)
    if committee_ids is not None:
        query = query.where(Dispute.committee_id.in_(committee_ids))
    disputes = list(session.scalars(query))
    # The mediator a dispute is counted for: the one holding it (the last active assignment).
    holder: dict[str, str] = {}
    ids = [d.id for d in disputes]
    for i in range(0, len(ids), 500):
        for dispute_id, mediator_id in session.execute(
                select(Assignment.dispute_id, Assignment.mediator_id)
                .where(Assignment.dispute_id.in_(ids[i:i + 500]), Assignment.active.is_(True))
                .order_by(Assignment.id)):
            holder[dispute_id] = mediator_id
    total, by_type, by_committee, by_mediator = _blank(), defaultdict(_blank), defaultdict(_blank), defaultdict(_blank)
    for d in disputes:
        _add(total, d)
        _add(by_type[d.dispute_type], d)
        _add(by_committee[d.committee_id], d)
        if d.id in holder:
            _add(by_mediator[holder[d.id]], d)
    cfg = config.get()
    committees = {c.id: c.name for c in session.scalars(select(Committee))}
    mediators = {m.id: m.name for m in session.scalars(select(Mediator))}
    return {
        "from": date_from, "to": date_to, "total": _finish(total),
        "by_type": [{"code": k, "name": cfg.type_name(k), **_finish(v)}
                    for k, v in sorted(by_type.items())],
        "by_committee": [{"committee_id": k, "name": committees.get(k, ""), **_finish(v)}
                         for k, v in sorted(by_committee.items(), key=lambda kv: kv[0] or "")],
        "by_mediator": [{"mediator_id": k, "name": mediators.get(k, ""), **_finish(v)}
                        for k, v in sorted(by_mediator.items())],
    }


FIGURES = ("applied", "accepted", "refused", "withdrawn", "succeeded", "failed", "open", "resolution_rate",
           "average_days")


def table(figures: dict) -> tuple[list[str], list[list]]:
    """The figures as one table: the total, then each type, committee and mediator."""
    headers = ["分组", "名称", "申请", "受理", "不予受理", "撤回", "调解成功", "调解终止", "办理中", "化解率",
               "平均用时（天）"]
    rows = [["合计", "", *(figures["total"][k] for k in FIGURES)]]
    for group, label in (("by_type", "纠纷类型"), ("by_committee", "调解委员会"), ("by_mediator", "调解员")):
        rows += [[label, r["name"], *(r[k] for k in FIGURES)] for r in figures[group]]
    return headers, rows


LEDGER_HEADERS = ["案件编号", "来源", "纠纷类型", "调解委员会", "调解员", "状态", "申请时间", "受理时间", "结束时间",
                  "用时（天）", "风险等级"]
SOURCES = {"intake": "诉求转入", "application": "当事人申请", "committee": "委员会主动调解"}


def ledger(session: Session, date_from: datetime, date_to: datetime, committee_ids: list[str] | None,
           limit: int) -> list[list]:
    """The mediation ledger (调解台账) of a period: one row per dispute applied for in it, no party, no
    facts of the dispute — the record itself is read under its own rules."""
    tz = local_zone()
    query = (select(Dispute).where(Dispute.applied_at >= date_from, Dispute.applied_at < date_to)
             .order_by(Dispute.applied_at, Dispute.dispute_no).limit(limit))
    if committee_ids is not None:
        query = query.where(Dispute.committee_id.in_(committee_ids))
    disputes = list(session.scalars(query))
    ids = [d.id for d in disputes]
    holder: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        for dispute_id, mediator_id in session.execute(
                select(Assignment.dispute_id, Assignment.mediator_id)
                .where(Assignment.dispute_id.in_(ids[i:i + 500]), Assignment.active.is_(True)).order_by(Assignment.id)):
            holder[dispute_id] = mediator_id
    committees = {c.id: c.name for c in session.scalars(select(Committee))}
    mediators = {m.id: m.name for m in session.scalars(select(Mediator))}
    cfg = config.get()

    def stamp(at):
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""

    return [[d.dispute_no, SOURCES.get(d.source, d.source), cfg.type_name(d.dispute_type),
             committees.get(d.committee_id, ""), mediators.get(holder.get(d.id, ""), ""),
             STATUS_LABELS[d.status][0], stamp(d.applied_at), stamp(d.accepted_at), stamp(d.closed_at),
             round((d.closed_at - d.accepted_at).total_seconds() / 86400, 1) if d.closed_at and d.accepted_at else "",
             d.risk_level] for d in disputes]
