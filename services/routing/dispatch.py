"""Deciding who must act on a new case, and recording why."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched

from .locator import Locator
from .models import OPEN_STATUSES, Staff, Unit, WorkOrder

# Who takes a case that lands on a unit of this level (configuration, not code paths).
HANDLER_ROLE = {
    "grid": "grid_worker",
    "community": "community_staff",
    "street": "street_dispatcher",
    "district": "supervisor",
    "department": "department_handler",
}
LEVEL_NAMES = {"grid": "网格", "community": "社区", "street": "街道", "district": "区"}


def choose_unit(session: Session, locator: Locator, event: CaseSubmitted) -> tuple[Unit, str]:
    if event.lat is not None and event.lon is not None:
        hits = locator.locate(event.lon, event.lat)
        if hits:
            best = hits[0]
            level = LEVEL_NAMES.get(best.level, best.level)
            if best.level == "grid":
                rule = f"属地派单：上报位置位于{best.name}（{best.code}）范围内"
            else:
                rule = f"属地派单：上报位置不在任何网格内，由所在{level}{best.name}（{best.code}）承接"
            return session.get(Unit, best.unit_id), rule
    root = session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).first()
    if root is None:
        raise LookupError("the organisation directory is empty: nothing to dispatch to")
    reason = "未提供位置" if event.lat is None or event.lon is None else "上报位置不在辖区内"
    return root, f"兜底派单：{reason}，由{root.name}（{root.code}）兜底"


def choose_assignee(session: Session, unit: Unit) -> str | None:
    """The on-duty staff member of the unit with the least open work."""
    role = HANDLER_ROLE.get(unit.level)
    # Counted per candidate through the assignee index, so the cost does not grow with the
    # number of work orders in the city.
    open_work = (
        select(func.count())
        .where(WorkOrder.assignee_id == Staff.user_id, WorkOrder.status.in_(OPEN_STATUSES))
        .correlate(Staff)
        .scalar_subquery()
    )
    row = session.execute(
        select(Staff.user_id)
        .where(Staff.unit_id == unit.id, Staff.on_duty.is_(True), Staff.role == role)
        .order_by(open_work, Staff.user_id)
        .limit(1)
    ).first()
    return row[0] if row else None


def dispatch_new_case(session: Session, locator: Locator, event: CaseSubmitted) -> CaseDispatched | None:
    if session.scalar(select(WorkOrder.id).where(WorkOrder.case_id == event.case_id).limit(1)):
        return None  # already dispatched (a replay from another handler path)
    unit, rule = choose_unit(session, locator, event)
    now = utcnow()
    order = WorkOrder(
        id=str(uuid.uuid4()), case_id=event.case_id, case_no=event.case_no, unit_id=unit.id,
        assignee_id=choose_assignee(session, unit), requester_id=event.reporter_id,
        category=event.category, urgency=event.urgency, status="dispatched", seq=1, rule=rule,
        created_at=now, updated_at=now,
    )
    session.add(order)
    return CaseDispatched(
        case_id=order.case_id, case_no=order.case_no, work_order_id=order.id, seq=order.seq,
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, unit_level=unit.level,
        assignee_id=order.assignee_id, requester_id=order.requester_id, rule=rule, at=now,
    )
