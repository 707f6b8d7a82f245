"""指定: a case whose last allowed dispatch was returned waits for a supervisor to name its owner.

It waits on its own clock (`clocks.json` `designation`, a `designate` clock on the returned order),
is announced to the supervisors who can designate it (people.nearest_supervisors: never community
staff, who may not), is listed for them (`GET /v1/designations`) and, once its clock passes, is on
the overdue list and announced again (clocks.scan).
"""

import json
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from shared.events.routing import CaseAwaitingDesignation
from shared.uow import Emit

from . import clocks, config, people
from .journal import event_fields, timeline
from .models import Clock, RoutingCase, TimelineEntry, Unit, WorkOrder


def wait(session: Session, emit: Emit, rc: RoutingCase, order: WorkOrder, now: datetime) -> None:
    """The returned order's case waits for 指定: its clock starts, its designators are told."""
    rc.state = "awaiting_designation"
    clock = clocks.start_deadline(session, order, "designate", now, config.get().clocks.designation)
    unit, designators = people.designators(session, rc.matter_class, (order.unit_id, rc.area_id, rc.street_id))
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "awaiting_designation", None,
             {"deadline": clock.deadline.isoformat(), "designating_unit": unit.name if unit else None}, now)
    emit(CaseAwaitingDesignation(**fields, dispatch_count=rc.dispatch_count,
                                 designating_unit_id=unit.id if unit else "",
                                 designating_unit_name=unit.name if unit else "",
                                 designator_ids=designators, deadline=clock.deadline))


def done(session: Session, rc: RoutingCase, now: datetime) -> None:
    """Designated or withdrawn: the designation clock of its returned order stops."""
    if rc.lead_work_order_id:
        clocks.stop_kind(session, rc.lead_work_order_id, "designate", now)


def waiting(session: Session, reach, limit: int, overdue_at: datetime | None = None) -> list[tuple]:
    """(case, its returned lead order, that order's unit, the designation clock) of the cases waiting
    for 指定 whose order `reach` (an access filter on WorkOrder) covers, the oldest deadline first;
    only those past their deadline when `overdue_at` is given."""
    running = and_(Clock.work_order_id == WorkOrder.id, Clock.kind == "designate", Clock.stopped_at.is_(None))
    stmt = (select(RoutingCase, WorkOrder, Unit, Clock)
            .join(WorkOrder, WorkOrder.id == RoutingCase.lead_work_order_id)
            .join(Unit, Unit.id == WorkOrder.unit_id)
            .outerjoin(Clock, running)
            .where(RoutingCase.state == "awaiting_designation", reach))
    if overdue_at is not None:
        stmt = stmt.where(Clock.deadline < overdue_at)
    return list(session.execute(stmt.order_by(Clock.deadline, RoutingCase.case_id).limit(limit)).all())


def returns(session: Session, case_id: str) -> list[dict]:
    """Each return of the case, oldest first: the unit (by name) and the reason it gave."""
    rows = session.execute(
        select(TimelineEntry, Unit).join(WorkOrder, WorkOrder.id == TimelineEntry.work_order_id)
        .join(Unit, Unit.id == WorkOrder.unit_id)
        .where(TimelineEntry.case_id == case_id, TimelineEntry.kind == "returned").order_by(TimelineEntry.id)).all()
    out = []
    for entry, unit in rows:
        detail = json.loads(entry.detail) if entry.detail else {}
        out.append({"unit_code": unit.code, "unit_name": unit.name, "reason": detail.get("reason"),
                    "legal_basis": detail.get("legal_basis"), "at": entry.at})
    return out
