"""What every change of a work order writes: the case's next event number and a timeline row.

The lowest module of the rules (clocks, workflow, dispatch, whistle and supervision all use it),
so it imports none of them.
"""

import json
from datetime import datetime

from sqlalchemy.orm import Session

from .models import RoutingCase, TimelineEntry, Unit, WorkOrder


def bump(rc: RoutingCase, order: WorkOrder | None = None) -> int:
    """The next value of the case's event counter; the order remembers it. Intake drops an event
    whose seq is not above the last one it applied, so every event of the case takes one."""
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


def case_of(session: Session, order: WorkOrder) -> RoutingCase:
    """The order's case, locked: its counter is read and raised in this transaction only."""
    return session.get(RoutingCase, order.case_id, with_for_update=True)


def event_fields(session: Session, rc: RoutingCase, order: WorkOrder, now: datetime) -> dict:
    """The fields every work-order event carries, with the case's next seq."""
    unit = session.get(Unit, order.unit_id)
    seq = bump(rc, order)
    return dict(case_id=order.case_id, case_no=order.case_no, work_order_id=order.id, seq=seq,
                unit_id=unit.id, unit_name=unit.name, at=now)
