"""吹哨报到: the unit handling a work order calls departments in, and each reports within its
deadline (30 minutes by default) to join as a co-handler; late reports count in its scores."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import routing as ev
from shared.uow import Emit

from . import clocks, config
from .directory import unit_by_code
from .dispatch import open_order
from .journal import case_of, event_fields, timeline
from .models import Unit, Whistle, WorkOrder
from .workflow import check

DEPARTMENT_LEVELS = {"department", "utility"}


def call(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, department_codes: list[str],
         note: str | None) -> None:
    """吹哨: each department named (once) gets a report deadline."""
    departments = []
    for i, code in enumerate(dict.fromkeys(department_codes)):
        unit = unit_by_code(session, code, f"department_codes.{i}")
        if unit.level not in DEPARTMENT_LEVELS and unit.kind not in DEPARTMENT_LEVELS:
            raise ApiError(422, "unit.not_department", field=f"department_codes.{i}")
        # A second call would stay unanswered for ever (the department reports once) and count
        # against it in the scores.
        if session.scalar(select(Whistle.id).where(Whistle.work_order_id == order.id,
                                                   Whistle.department_unit_id == unit.id).limit(1)):
            raise ApiError(409, "whistle.already_called", field=f"department_codes.{i}")
        departments.append(unit)
    check(order, "whistle")
    rc = case_of(session, order)
    span = config.get().clocks.whistle_report
    deadline = clocks.calendar(session).after(now, span)
    for dept in departments:
        row = Whistle(work_order_id=order.id, department_unit_id=dept.id, called_by=actor_id, called_at=now,
                      deadline=deadline, note=note)
        session.add(row)
        session.flush()  # its id: the report clock waits for this whistle
        # An unanswered call is not silent: at the deadline the scanner tells the department and the
        # calling street (routing.case.report_overdue) and the order shows on the overdue list.
        clocks.start_deadline(session, order, "report", now, span, whistle_id=row.id)
    order.updated_at = now
    fields = event_fields(session, rc, order, now)
    # Staff read the departments by name (codes kept for exports and tools).
    timeline(session, order, "escalated", actor_id, {"departments": [d.code for d in departments],
                                                     "department_names": [d.name for d in departments],
                                                     "note": note, "report_deadline": deadline.isoformat()}, now)
    emit(ev.CaseEscalated(**fields, actor_id=actor_id, department_unit_ids=[d.id for d in departments],
                          report_deadline=deadline, note=note))


def report(session: Session, emit: Emit, order: WorkOrder, departments: Collection[str], actor_id: str,
           now: datetime) -> None:
    """报到: the department acknowledges and joins as a co-handler (an assisting order, signed).
    `departments`: the reporting staff member's units (the first whistled and not yet reported)."""
    rows = session.scalars(select(Whistle).where(
        Whistle.work_order_id == order.id, Whistle.department_unit_id.in_(departments))
        .order_by(Whistle.id).with_for_update()).all() if departments else []
    row = next((r for r in rows if r.reported_at is None), rows[0] if rows else None)
    if row is None:
        raise ApiError(403, "whistle.not_called", field="work_order_id")
    if row.reported_at is not None:
        raise ApiError(409, "whistle.already_reported", field="department")
    check(order, "report")
    rc = case_of(session, order)
    dept = session.get(Unit, row.department_unit_id)
    row.reported_at, row.reported_by = now, actor_id
    row.late = now > row.deadline
    clocks.stop_kind(session, order.id, "report", now, whistle_id=row.id)
    # Not another dispatch of the case: the reported event below says why the order exists.
    assist = open_order(session, rc, dept, rule=f"吹哨报到：{dept.name}（{dept.code}）报到协办", rule_id="whistle",
                        rule_version=None, now=now, role="assist", lead_id=order.id, status="signed",
                        actor_id=actor_id, assignee_id=actor_id)
    row.assist_order_id = assist.id
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "reported", actor_id, {"department": dept.code, "department_name": dept.name,
                                                    "late": row.late}, now)
    emit(ev.CaseReported(**fields, department_unit_id=dept.id, actor_id=actor_id, late=row.late))
