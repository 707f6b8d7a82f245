"""督办: supervisors press on open work, decide extensions, exclude an order from the scores with a
recorded reason, and see what is overdue in their subtree and the streets' watch list."""

import json
from datetime import datetime

from sqlalchemy import and_, false, literal, or_, select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import routing as ev
from shared.uow import Emit

from . import clocks
from .directory import under
from .journal import case_of, event_fields, timeline
from .models import Extension, Unit, WatchEntry, WorkOrder
from .workflow import check


def supervise(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, note: str) -> None:
    check(order, "supervise")
    rc = case_of(session, order)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "supervised", actor_id, {"note": note}, now)
    emit(ev.CaseSupervised(**fields, supervisor_id=actor_id, note=note, assignee_id=order.assignee_id))


def request_extension(session: Session, order: WorkOrder, actor_id: str, now: datetime, working_days: int,
                      reason: str) -> Extension:
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
    session.flush()  # the request's id is the answer
    return row


def decide_extension(session: Session, emit: Emit, order: WorkOrder, row: Extension, actor_id: str, now: datetime,
                     approve: bool, note: str | None) -> None:
    if row.requested_by == actor_id:  # a supervisor handling an order asks someone else
        raise ApiError(403, "extension.self_approval", field="extension_id")
    if row.status != "pending":
        raise ApiError(409, "extension.already_decided", field="status")
    row.status, row.decided_by, row.decided_at = ("approved" if approve else "rejected"), actor_id, now
    if not approve:
        timeline(session, order, "extension_rejected", actor_id, {"note": note}, now)
        return
    check(order, "extend")
    rc = case_of(session, order)
    new_deadline = clocks.calendar().add(order.result_deadline, working_days=row.working_days)
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


def overdue(session: Session, now: datetime, within: str | tuple[str, ...] | None,
            limit: int) -> list[tuple[WorkOrder, Unit]]:
    """Lead orders past a deadline they still run against, most overdue result first; `within`
    limits them to subtrees (unit path prefixes; None for the whole tree)."""
    w = WorkOrder
    late = or_(and_(w.status == "dispatched", w.sign_deadline < now),
               and_(w.status.in_(("dispatched", "signed")), w.contact_deadline < now),
               and_(w.status.in_(("dispatched", "signed", "in_progress")), w.result_deadline < now))
    stmt = select(w, Unit).join(Unit, Unit.id == w.unit_id).where(w.role == "lead", late)
    stmt = stmt.where(under(Unit.path, within))
    return list(session.execute(stmt.order_by(w.result_deadline).limit(limit)).all())


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
