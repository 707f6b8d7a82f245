"""The work order's life: legal transitions, each one a timeline row and an event.

Every function takes the session of the caller's transaction and returns the events to emit
in it; it raises `ApiError` (and changes nothing) when the transition is not allowed.
"""

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import routing as ev

from . import clocks, settings
from .models import Extension, RoutingCase, TimelineEntry, Unit, Whistle, WorkOrder

# action → the statuses it may start from (anything else is refused with workorder.illegal_transition)
ALLOWED = {
    "sign": {"dispatched"},
    "contact": {"signed"},
    "resolve": {"in_progress"},
    "verify": {"resolved"},
    "close": {"resolved", "verified"},
    "return": {"dispatched", "signed"},
    "extend": {"signed", "in_progress"},
    "whistle": {"signed", "in_progress"},
    # 报到 joins an order still being handled: on a closed or returned one the assisting order
    # would stay open for ever.
    "report": {"signed", "in_progress"},
    "supervise": {"dispatched", "signed", "in_progress", "resolved", "verified"},
    "reassign": {"dispatched", "signed", "in_progress"},
}


def bump(session: Session, rc: RoutingCase, order: WorkOrder | None = None) -> int:
    """The next value of the case's event counter; the order remembers it."""
    rc.seq += 1
    if order is not None:
        order.seq = rc.seq
    return rc.seq


def timeline(session: Session, order: WorkOrder, kind: str, actor_id: str | None, detail: dict | None,
             at: datetime) -> None:
    session.add(TimelineEntry(work_order_id=order.id, case_id=order.case_id, seq=order.seq, kind=kind,
                              status=order.status, actor_id=actor_id,
                              detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
                              at=at))


def check(order: WorkOrder, action: str) -> None:
    if order.status not in ALLOWED[action]:
        raise ApiError(409, "workorder.illegal_transition", field="status",
                       detail=f"{action} not allowed from {order.status}")


def _base(session: Session, order: WorkOrder, rc: RoutingCase, now: datetime) -> dict:
    unit = session.get(Unit, order.unit_id)
    seq = bump(session, rc, order)
    return dict(case_id=order.case_id, case_no=order.case_no, work_order_id=order.id, seq=seq,
                unit_id=unit.id, unit_name=unit.name, at=now)


def _case(session: Session, order: WorkOrder) -> RoutingCase:
    return session.get(RoutingCase, order.case_id, with_for_update=True)


def sign(session: Session, order: WorkOrder, actor_id: str, now: datetime) -> list:
    check(order, "sign")
    rc = _case(session, order)
    order.status, order.signed_at, order.updated_at = "signed", now, now
    order.assignee_id = order.assignee_id or actor_id
    order.sign_late = clocks.stop(session, order, "sign", now)
    base = _base(session, order, rc, now)
    timeline(session, order, "signed", actor_id, {"late": order.sign_late}, now)
    return [ev.CaseSigned(**base, actor_id=actor_id, late=order.sign_late)]


def contact(session: Session, order: WorkOrder, actor_id: str, now: datetime, note: str | None = None) -> list:
    check(order, "contact")
    rc = _case(session, order)
    order.status, order.contacted_at, order.updated_at = "in_progress", now, now
    order.contact_late = clocks.stop(session, order, "contact", now)
    base = _base(session, order, rc, now)
    timeline(session, order, "contacted", actor_id, {"late": order.contact_late, "note": note}, now)
    return [ev.CaseContacted(**base, actor_id=actor_id, late=order.contact_late)]


def resolve(session: Session, order: WorkOrder, actor_id: str, now: datetime, *, outcome: str, result_text: str,
            photos: list[str]) -> list:
    check(order, "resolve")
    rc = _case(session, order)
    order.status, order.resolved_at, order.updated_at = "resolved", now, now
    order.outcome, order.result_text, order.photos = outcome, result_text, json.dumps(photos)
    order.result_late = clocks.stop(session, order, "result", now)
    base = _base(session, order, rc, now)
    timeline(session, order, "resolved", actor_id, {"outcome": outcome, "photos": len(photos),
                                                    "late": order.result_late}, now)
    return [ev.CaseResolved(**base, actor_id=actor_id, outcome=outcome, result_text=result_text,
                            photo_count=len(photos), requester_id=order.requester_id, late=order.result_late)]


def verify(session: Session, order: WorkOrder, actor_id: str, now: datetime, *, passed: bool,
           note: str | None) -> list:
    check(order, "verify")
    rc = _case(session, order)
    if passed:
        order.status = "verified"
    else:  # not done after all: back to handling, on the result clock it had
        order.status, order.resolved_at, order.result_late = "in_progress", None, None
        clocks.resume(session, order, "result")
    order.updated_at = now
    base = _base(session, order, rc, now)
    timeline(session, order, "verified", actor_id, {"passed": passed, "note": note}, now)
    return [ev.CaseVerified(**base, verifier_id=actor_id, passed=passed, note=note)]


def close(session: Session, order: WorkOrder, actor_id: str | None, now: datetime) -> list:
    check(order, "close")
    rc = _case(session, order)
    order.status, order.closed_at, order.updated_at = "closed", now, now
    clocks.stop_all(session, order, now)
    for assist in session.scalars(select(WorkOrder).where(WorkOrder.lead_id == order.id,
                                                          WorkOrder.status.not_in(("closed", "cancelled")))):
        assist.status, assist.closed_at, assist.updated_at = "closed", now, now
        timeline(session, assist, "closed", actor_id, {"with_lead": order.id}, now)
    base = _base(session, order, rc, now)
    timeline(session, order, "closed", actor_id, None, now)
    return [ev.CaseClosed(**base, outcome=order.outcome, requester_id=order.requester_id)]


def cancel_open(session: Session, case_id: str, kind: str, actor_id: str | None, now: datetime) -> int:
    """Withdrawn or merged: every open order of the case stops; its clocks too."""
    n = 0
    for order in session.scalars(select(WorkOrder).where(WorkOrder.case_id == case_id,
                                                         WorkOrder.status.in_(tuple(ALLOWED["supervise"])))):
        order.status, order.updated_at = "cancelled", now
        clocks.stop_all(session, order, now)
        timeline(session, order, kind, actor_id, None, now)
        n += 1
    return n


def return_order(session: Session, order: WorkOrder, actor_id: str, now: datetime, *, reason: str,
                 legal_basis: str) -> list:
    """退单 within the window. The caller re-dispatches (or waits for a designation)."""
    check(order, "return")
    if order.role != "lead":
        raise ApiError(409, "workorder.assist_cannot_return", field="role")
    if order.designated:
        raise ApiError(409, "workorder.designated_cannot_return", field="designated")
    if order.return_deadline is not None and now > order.return_deadline:
        raise ApiError(409, "workorder.return_window_passed", field="return_deadline")
    rc = _case(session, order)
    order.status, order.updated_at = "returned", now
    clocks.stop_all(session, order, now)
    for assist in session.scalars(select(WorkOrder).where(WorkOrder.lead_id == order.id,
                                                          WorkOrder.status.in_(tuple(ALLOWED["supervise"])))):
        assist.status, assist.updated_at = "cancelled", now
        timeline(session, assist, "cancelled", actor_id, {"lead_returned": order.id}, now)
    base = _base(session, order, rc, now)
    timeline(session, order, "returned", actor_id, {"reason": reason, "legal_basis": legal_basis}, now)
    if rc.dispatch_count >= settings.clocks()["max_dispatches"]:
        rc.state = "awaiting_designation"
    return [ev.CaseReturned(**base, actor_id=actor_id, reason=reason, legal_basis=legal_basis)]


def reassign_close(session: Session, order: WorkOrder, actor_id: str, now: datetime, reason: str) -> None:
    """改派: the old order ends as reassigned (its history stays); the caller opens the new one."""
    check(order, "reassign")
    order.status, order.updated_at = "reassigned", now
    clocks.stop_all(session, order, now)
    timeline(session, order, "reassigned", actor_id, {"reason": reason}, now)


def whistle(session: Session, order: WorkOrder, actor_id: str, now: datetime, departments: list[Unit],
            note: str | None) -> list:
    check(order, "whistle")
    rc = _case(session, order)
    minutes = settings.clocks()["whistle_report"].get("minutes", 30)
    deadline = now + timedelta(minutes=minutes)
    for dept in departments:
        session.add(Whistle(work_order_id=order.id, department_unit_id=dept.id, called_by=actor_id, called_at=now,
                            deadline=deadline, note=note))
    order.updated_at = now
    base = _base(session, order, rc, now)
    timeline(session, order, "escalated", actor_id, {"departments": [d.code for d in departments], "note": note,
                                                     "report_deadline": deadline.isoformat()}, now)
    return [ev.CaseEscalated(**base, actor_id=actor_id, department_unit_ids=[d.id for d in departments],
                             report_deadline=deadline, note=note)]


def report(session: Session, order: WorkOrder, whistle_row: Whistle, actor_id: str, now: datetime) -> list:
    """报到: the department acknowledges and joins as a co-handler (an assisting order, signed)."""
    from .dispatch import open_order

    if whistle_row.reported_at is not None:
        raise ApiError(409, "whistle.already_reported", field="department")
    check(order, "report")
    rc = _case(session, order)
    dept = session.get(Unit, whistle_row.department_unit_id)
    whistle_row.reported_at, whistle_row.reported_by = now, actor_id
    whistle_row.late = now > whistle_row.deadline
    assist, _ = open_order(session, rc, dept, rule=f"吹哨报到：{dept.name}（{dept.code}）报到协办", rule_id="whistle",
                           rule_version=None, now=now, role="assist", lead_id=order.id, status="signed",
                           actor_id=actor_id, assignee_id=actor_id)
    whistle_row.assist_order_id = assist.id
    base = _base(session, order, rc, now)
    timeline(session, order, "reported", actor_id, {"department": dept.code, "late": whistle_row.late}, now)
    return [ev.CaseReported(**base, department_unit_id=dept.id, actor_id=actor_id, late=whistle_row.late)]


def request_extension(session: Session, order: WorkOrder, actor_id: str, now: datetime, working_days: int,
                      reason: str) -> Extension:
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
    return row


def decide_extension(session: Session, order: WorkOrder, row: Extension, actor_id: str, now: datetime,
                     approve: bool, note: str | None) -> list:
    if row.status != "pending":
        raise ApiError(409, "extension.already_decided", field="status")
    row.status, row.decided_by, row.decided_at = ("approved" if approve else "rejected"), actor_id, now
    if not approve:
        timeline(session, order, "extension_rejected", actor_id, {"note": note}, now)
        return []
    check(order, "extend")
    rc = _case(session, order)
    new_deadline = clocks.calendar().add(order.result_deadline, working_days=row.working_days)
    row.new_deadline = new_deadline
    clocks.move_deadline(session, order, "result", new_deadline, now)
    order.updated_at = now
    base = _base(session, order, rc, now)
    timeline(session, order, "extended", actor_id, {"new_result_deadline": new_deadline.isoformat(),
                                                    "working_days": row.working_days, "note": note}, now)
    return [ev.CaseExtended(**base, approved_by=actor_id, new_result_deadline=new_deadline, reason=row.reason)]


def supervise(session: Session, order: WorkOrder, actor_id: str, now: datetime, note: str) -> list:
    check(order, "supervise")
    rc = _case(session, order)
    base = _base(session, order, rc, now)
    timeline(session, order, "supervised", actor_id, {"note": note}, now)
    return [ev.CaseSupervised(**base, supervisor_id=actor_id, note=note, assignee_id=order.assignee_id)]


def designated(session: Session, order: WorkOrder, rc: RoutingCase, actor_id: str, now: datetime) -> list:
    base = _base(session, order, rc, now)
    timeline(session, order, "designated", actor_id, None, now)
    return [ev.CaseDesignated(**base, designated_by=actor_id)]
