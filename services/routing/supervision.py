"""督办: supervisors press on open work, decide extensions, exclude an order from the scores with a
recorded reason, and see what is overdue in their subtree and the streets' watch list."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from shared.errors import ApiError
from shared.events import routing as ev
from shared.uow import Emit

from . import clocks, config, designation
from .directory import under
from .journal import case_of, event_fields, timeline
from .models import Extension, Unit, WatchEntry, Whistle, WorkOrder
from .workflow import check


def supervise(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, note: str) -> None:
    check(order, "supervise")
    rc = case_of(session, order)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "supervised", actor_id, {"note": note}, now)
    emit(ev.CaseSupervised(**fields, supervisor_id=actor_id, note=note, assignee_id=order.assignee_id))


def request_extension(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime,
                      working_days: int, reason: str) -> Extension:
    """延期 asked for by the handler; only a supervisor's approval moves the deadline."""
    check(order, "extend")
    if order.result_deadline is None:  # an assisting order: the lead's clock is the one that counts
        raise ApiError(409, "extension.no_deadline", field="role")
    if session.scalar(select(Extension.id).where(Extension.work_order_id == order.id,
                                                 Extension.status == "pending").limit(1)):
        raise ApiError(409, "extension.pending_exists", field="work_order_id")
    row = Extension(work_order_id=order.id, requested_by=actor_id, requested_at=now, working_days=working_days,
                    reason=reason, status="pending")
    session.add(row)
    timeline(session, order, "extension_requested", actor_id, {"working_days": working_days, "reason": reason},
             now)
    session.flush()  # the request's id is the answer (and the event's)
    emit(ev.CaseExtensionRequested(**event_fields(session, case_of(session, order), order, now), extension_id=row.id,
                                   requested_by=actor_id, working_days=working_days, reason=reason))
    return row


def approved_so_far(session: Session, order: WorkOrder) -> tuple[int, int]:
    """(how many extensions of the order were approved, their working days in all)."""
    count, days = session.execute(select(func.count(), func.coalesce(func.sum(Extension.working_days), 0)).where(
        Extension.work_order_id == order.id, Extension.status == "approved")).one()
    return count, days


def beyond_cap(session: Session, order: WorkOrder, working_days: int) -> str | None:
    """Why approving `working_days` more would take the order beyond its cap (clocks.json
    `extensions`), as the error code; None within it."""
    cap = config.get().clocks.extensions
    count, days = approved_so_far(session, order)
    if count + 1 > cap.max_count:
        return "extension.count_cap"
    if days + working_days > cap.max_working_days:
        return "extension.days_cap"
    return None


def decide_extension(session: Session, emit: Emit, order: WorkOrder, row: Extension, actor_id: str, now: datetime,
                     approve: bool, note: str | None, district: bool = False) -> None:
    """Approve or reject; an approval beyond the order's cap needs the district level (`district`:
    an admin or a supervisor of the root unit), so 5 + 30 days are not approved in a row below it."""
    if row.requested_by == actor_id:  # a supervisor handling an order asks someone else
        raise ApiError(403, "extension.self_approval", field="extension_id")
    if row.status != "pending":
        raise ApiError(409, "extension.already_decided", field="status")
    if approve and not district:
        code = beyond_cap(session, order, row.working_days)
        if code is not None:
            cap = config.get().clocks.extensions
            count, days = approved_so_far(session, order)
            raise ApiError(409, code, field="extension_id" if code == "extension.count_cap" else "working_days",
                           detail=f"已批准延期 {count} 次、共 {days} 个工作日；上限为 {cap.max_count} 次、"
                                  f"{cap.max_working_days} 个工作日")
    row.status, row.decided_by, row.decided_at = ("approved" if approve else "rejected"), actor_id, now
    if not approve:
        timeline(session, order, "extension_rejected", actor_id, {"note": note}, now)
        return
    check(order, "extend")
    rc = case_of(session, order)
    new_deadline = clocks.calendar(session).add(order.result_deadline, working_days=row.working_days)
    row.new_deadline = new_deadline
    clocks.move_deadline(session, order, "result", new_deadline, now)
    order.updated_at = now
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "extended", actor_id, {"new_result_deadline": new_deadline.isoformat(),
                                                    "working_days": row.working_days, "note": note}, now)
    emit(ev.CaseExtended(**fields, approved_by=actor_id, new_result_deadline=new_deadline, reason=row.reason))


def exclude(session: Session, order: WorkOrder, actor_id: str, now: datetime, reason: str) -> None:
    """不计入考核: the order leaves the scores, and who decided it and why stays on record."""
    order.excluded, order.exclusion_reason, order.excluded_by = True, reason, actor_id
    timeline(session, order, "excluded", actor_id, {"reason": reason}, now)


@dataclass
class Overdue:
    """A line of the overdue list: the order, its unit, what is overdue (its own `sign`, `contact`,
    `result` clocks, a whistled department's `report`, the case's `designation`) since when."""

    order: WorkOrder
    unit: Unit
    since: datetime
    clocks: list[str] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)  # departments that did not report, by name
    designation_deadline: datetime | None = None


def overdue(session: Session, now: datetime, within: str | tuple[str, ...] | None, limit: int,
            reach: ColumnElement[bool] | None = None) -> list[Overdue]:
    """Everything past a deadline it still runs against, the longest overdue first: lead orders past
    their clocks, orders whose whistled departments did not report in time (吹哨 unanswered), and
    cases nobody designated in time (指定). `within` limits orders to subtrees (unit path prefixes;
    None for the whole tree); `reach` limits the designations (access.above_orders: whoever may
    designate them), the orders' subtrees when not given."""
    w = WorkOrder
    passed = {"sign": and_(w.status == "dispatched", w.sign_deadline < now),
              "contact": and_(w.status.in_(("dispatched", "signed")), w.contact_deadline < now),
              "result": and_(w.status.in_(("dispatched", "signed", "in_progress")), w.result_deadline < now)}
    lines: dict[str, Overdue] = {}

    def line(order: WorkOrder, unit: Unit, since: datetime) -> Overdue:
        found = lines.get(order.id)
        if found is None:
            found = lines[order.id] = Overdue(order, unit, since)
        found.since = min(found.since, since)
        return found

    stmt = select(w, Unit).join(Unit, Unit.id == w.unit_id).where(w.role == "lead", or_(*passed.values()),
                                                                  under(Unit.path, within))
    for order, unit in session.execute(stmt.order_by(w.result_deadline).limit(limit)):
        late = [k for k in passed if getattr(order, f"{k}_deadline") is not None
                and getattr(order, f"{k}_deadline") < now and order.status in _RUNNING[k]]
        found = line(order, unit, min(getattr(order, f"{k}_deadline") for k in late))
        found.clocks += late
    # 吹哨 unanswered: the calling order, while it is still being handled.
    dept = aliased(Unit)
    stmt = (select(w, Unit, Whistle, dept).join(Unit, Unit.id == w.unit_id).join(Whistle, Whistle.work_order_id == w.id)
            .join(dept, dept.id == Whistle.department_unit_id)
            .where(Whistle.reported_at.is_(None), Whistle.deadline < now, w.status.in_(("signed", "in_progress")),
                   under(Unit.path, within)).order_by(Whistle.deadline).limit(limit))
    for order, unit, whistle, department in session.execute(stmt):
        found = line(order, unit, whistle.deadline)
        if "report" not in found.clocks:
            found.clocks.append("report")
        found.reports.append({"department_code": department.code, "department_name": department.name,
                              "deadline": whistle.deadline})
    # 指定 not made in time: the case's returned order.
    if reach is None:
        reach = w.unit_id.in_(select(Unit.id).where(under(Unit.path, within)))
    for _, order, unit, clock in designation.waiting(session, reach, limit, overdue_at=now):
        found = line(order, unit, clock.deadline)
        found.clocks.append("designation")
        found.designation_deadline = clock.deadline
    return sorted(lines.values(), key=lambda x: (x.since, x.order.id))[:limit]


# The statuses in which each of an order's clocks still runs.
_RUNNING = {"sign": ("dispatched",), "contact": ("dispatched", "signed"),
            "result": ("dispatched", "signed", "in_progress")}


def watch_list(session: Session, within: str | tuple[str, ...] | None, limit: int = 500) -> list[WatchEntry]:
    """High-risk disputes, newest first: those of the streets in the subtrees `within` and of the
    street above each (a community sees its own street's); everything when `within` is None."""
    stmt = select(WatchEntry).order_by(WatchEntry.raised_at.desc()).limit(limit)
    if within is not None:
        paths = (within,) if isinstance(within, str) else within
        stmt = stmt.join(Unit, Unit.id == WatchEntry.street_unit_id).where(
            or_(under(Unit.path, paths), *[literal(p).startswith(Unit.path) for p in paths]) if paths else false())
    return list(session.scalars(stmt))


def watch(session: Session, *, dispute_id: str, case_id: str | None, street_unit_id: str | None, level: str,
          indicators: list, at: datetime) -> None:
    """Mediation raised a dispute's risk: onto its street's watch list, once per level."""
    exists = session.scalar(select(WatchEntry.id).where(WatchEntry.dispute_id == dispute_id,
                                                        WatchEntry.level == level).limit(1))
    if exists:
        return
    session.add(WatchEntry(dispute_id=dispute_id, case_id=case_id, street_unit_id=street_unit_id, level=level,
                           indicators=json.dumps(indicators, ensure_ascii=False), raised_at=at))
