"""Deciding who must act on a case, opening the work orders, and recording why."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched

from . import clocks, settings
from .locator import Locator
from .models import OPEN_STATUSES, RoutingCase, Staff, Unit, WorkOrder
from .responsibility import Decision, decide
from .workflow import bump, timeline

# Who takes a case that lands on a unit of this level (from config/levels.json).
HANDLER_ROLE = settings.handler_roles()
LEVEL_NAMES = settings.level_names()


def choose_assignee(session: Session, unit: Unit) -> str | None:
    """The on-duty staff member of the unit with the least open work."""
    role = settings.handler_roles().get(unit.level)
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


def period_of(at: datetime) -> str:
    return at.astimezone(ZoneInfo(settings.scoring().get("timezone", "Asia/Shanghai"))).strftime("%Y-%m")


def street_of(session: Session, unit: Unit) -> str | None:
    node = unit
    for _ in range(20):
        if node is None or node.level == "street":
            return node.id if node else None
        node = session.get(Unit, node.parent_id) if node.parent_id else None
    return None


def open_order(session: Session, rc: RoutingCase, unit: Unit, *, rule: str, rule_id: str,
               rule_version: int | None, now: datetime, role: str = "lead", lead_id: str | None = None,
               designated: bool = False, status: str = "dispatched", actor_id: str | None = None,
               assignee_id: str | None = None) -> tuple[WorkOrder, CaseDispatched]:
    order = WorkOrder(
        id=str(uuid.uuid4()), case_id=rc.case_id, case_no=rc.case_no, unit_id=unit.id,
        street_id=rc.street_id or street_of(session, unit),
        assignee_id=assignee_id or choose_assignee(session, unit),
        requester_id=rc.requester_id, confidential=rc.confidential, category=rc.category, urgency=rc.urgency,
        clock_profile=clocks.profile_name(rc.category, rc.urgency, rc.clock_profile), role=role, lead_id=lead_id,
        status=status, seq=0, dispatch_no=rc.dispatch_count, designated=designated, rule=rule, rule_id=rule_id,
        rule_version=rule_version, period=period_of(now), created_at=now, updated_at=now,
        signed_at=now if status == "signed" else None,
    )
    session.add(order)
    session.flush()
    if role == "lead":
        clocks.start(session, order, now)
        rc.lead_work_order_id = order.id
    seq = bump(session, rc, order)
    timeline(session, order, "dispatched", actor_id, {"rule": rule, "rule_id": rule_id, "rule_version": rule_version,
                                                      "unit_code": unit.code, "role": role}, now)
    return order, CaseDispatched(
        case_id=order.case_id, case_no=order.case_no, work_order_id=order.id, seq=seq,
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, unit_level=unit.level, role=role,
        assignee_id=order.assignee_id,
        # An assisting unit does not call the requester back: it is not told who they are.
        requester_id=order.requester_id if role == "lead" else None,
        rule=rule, dispatch_count=rc.dispatch_count, sign_deadline=order.sign_deadline,
        result_deadline=order.result_deadline, at=now,
    )


def open_decision(session: Session, rc: RoutingCase, decision: Decision, now: datetime,
                  actor_id: str | None = None, designated: bool = False) -> list[CaseDispatched]:
    """The lead order and its assisting orders. Assisting units' events come first, so the last
    dispatched event of the case (the highest seq) names the lead unit."""
    rc.dispatch_count += 1
    rc.state = "active"
    events, assists = [], []
    for unit in decision.assists:
        order, ev = open_order(session, rc, unit, rule=f"协办：{decision.rule}", rule_id=decision.rule_id,
                               rule_version=decision.rule_version, now=now, role="assist", actor_id=actor_id)
        assists.append(order)
        events.append(ev)
    lead, ev = open_order(session, rc, decision.unit, rule=decision.rule, rule_id=decision.rule_id,
                          rule_version=decision.rule_version, now=now, designated=designated, actor_id=actor_id)
    for assist in assists:
        assist.lead_id = lead.id
    events.append(ev)
    return events


def returned_units(session: Session, case_id: str) -> set[str]:
    return set(session.scalars(select(WorkOrder.unit_id).where(WorkOrder.case_id == case_id,
                                                               WorkOrder.status == "returned")))


def redispatch(session: Session, locator: Locator, rc: RoutingCase, now: datetime) -> list[CaseDispatched]:
    decision = decide(session, locator, category=rc.category, matter_class=rc.matter_class, lat=rc.lat,
                      lon=rc.lon, excluded=returned_units(session, rc.case_id))
    return open_decision(session, rc, decision, now)


def _street_located(locator: Locator, lat, lon) -> str | None:
    if lat is None or lon is None:
        return None
    return next((loc.unit_id for loc in locator.locate(lon, lat) if loc.level == "street"), None)


def dispatch_submitted(session: Session, locator: Locator, event: CaseSubmitted) -> list[CaseDispatched]:
    """A new case: its routing record, the decision, the work orders. Empty when already done."""
    if session.get(RoutingCase, event.case_id) is not None:
        return []  # already dispatched (a replay from another handler path)
    if session.scalar(select(WorkOrder.id).where(WorkOrder.case_id == event.case_id).limit(1)):
        return []
    decision = decide(session, locator, category=event.category, matter_class=event.matter_class,
                      lat=event.lat, lon=event.lon)
    rc = RoutingCase(
        case_id=event.case_id, case_no=event.case_no, seq=0, dispatch_count=0, state="active",
        category=event.category, matter_class=event.matter_class, urgency=event.urgency,
        clock_profile=getattr(event, "clock_profile", None), lat=event.lat, lon=event.lon,
        requester_id=event.reporter_id, confidential=event.confidential,
        street_id=_street_located(locator, event.lat, event.lon), submitted_at=event.submitted_at,
    )
    session.add(rc)
    return open_decision(session, rc, decision, utcnow())


def dispatch_new_case(session: Session, locator: Locator, event: CaseSubmitted) -> CaseDispatched | None:
    """The lead's dispatched event of a new case (None when it was already dispatched)."""
    events = dispatch_submitted(session, locator, event)
    return events[-1] if events else None
