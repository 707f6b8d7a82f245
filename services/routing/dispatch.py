"""Deciding who must act on a case and opening its work orders: a new case, a re-dispatch after a
return, a reopening, a reassignment and a supervisor's designation, recording why each time.

`open_dispatch` is the one place a case is dispatched again (its count goes up, it is active);
everything else that opens a work order without dispatching the case (an assisting unit replaced,
a whistled department joining) uses `open_order` alone.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from shared.config import local_zone
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDesignated, CaseDispatched
from shared.uow import Emit

from . import clocks, config, designation, directory, load, workflow
from .directory import street_of, unit_by_code
from .journal import bump, case_of, event_fields, timeline
from .locator import Located, Locator
from .models import AssigneeLoad, RoutingCase, Staff, Unit, WorkOrder
from .responsibility import decide

# Built once (bound parameters): each is run for every case dispatched, and building a statement, coercing its
# clauses and keying it for the cache was as much as running it (issue 15).
_CANDIDATES = (select(Staff.user_id, func.coalesce(AssigneeLoad.open_orders, 0))
               .outerjoin(AssigneeLoad, AssigneeLoad.user_id == Staff.user_id)
               .where(Staff.unit_id == bindparam("unit_id"), Staff.on_duty.is_(True),
                      Staff.role == bindparam("role")))
_DISPATCHED = select(or_(exists().where(RoutingCase.case_id == bindparam("case_id")),
                         exists().where(WorkOrder.case_id == bindparam("case_id"))))


def choose_assignee(session: Session, unit: Unit) -> str | None:
    """The on-duty staff member of the unit with the least open work: each candidate's counter
    (load.py), so the cost does not grow with anyone's history, plus what this transaction changed and
    has not flushed yet (a batch's earlier cases), so a batch spreads its cases as one by one would."""
    role = config.get().levels.handler_role(unit.level)
    with session.no_autoflush:
        rows = session.execute(_CANDIDATES, {"unit_id": unit.id, "role": role}).all()
        if not rows:
            return None
        pending = load.changes(session)
    return min(rows, key=lambda r: (r[1] + pending.get(r[0], 0), r[0]))[0]


def period_of(at: datetime) -> str:
    """The month a work order is scored in: the local month of its dispatch."""
    return at.astimezone(local_zone()).strftime("%Y-%m")


def open_order(session: Session, rc: RoutingCase, unit: Unit, *, rule: str, rule_id: str,
               rule_version: int | None, now: datetime, role: str = "lead", lead_id: str | None = None,
               designated: bool = False, status: str = "dispatched", actor_id: str | None = None,
               assignee_id: str | None = None) -> WorkOrder:
    """One new work order of the case, with its clocks when it leads, its seq and timeline row.
    No event: the caller says why it exists (`announce`, or the event of what made it)."""
    order = WorkOrder(
        id=str(uuid.uuid4()), case_id=rc.case_id, case_no=rc.case_no, unit_id=unit.id,
        street_id=rc.street_id or street_of(session, unit), area_id=rc.area_id,
        assignee_id=assignee_id or choose_assignee(session, unit),
        requester_id=rc.requester_id, confidential=rc.confidential, category=rc.category, urgency=rc.urgency,
        clock_profile=clocks.profile_for(rc.category, rc.urgency, rc.clock_profile), role=role, lead_id=lead_id,
        external_no=rc.external_no,
        status=status, seq=0, dispatch_no=rc.dispatch_count, designated=designated, rule=rule, rule_id=rule_id,
        kind=rc.kind,
        rule_version=rule_version, period=period_of(now), created_at=now, updated_at=now,
        signed_at=now if status == "signed" else None,
    )
    # Not flushed here: the batch's rows go to the database together, each INSERT with its final values.
    session.add(order)
    if role == "lead":
        clocks.start(session, order, now)
        rc.lead_work_order_id = order.id
    bump(rc, order)
    timeline(session, order, "dispatched", actor_id, {"rule": rule, "rule_id": rule_id, "rule_version": rule_version,
                                                      "unit_code": unit.code, "unit_name": unit.name, "role": role,
                                                      "kind": order.kind}, now)
    return order


def announce(session: Session, emit: Emit, rc: RoutingCase, order: WorkOrder, unit: Unit, now: datetime) -> None:
    """The dispatched event of a new order, numbered with the order's latest seq. `area_path` is
    where the case is: the finest area of the map holding its point (a grid's path, or a community's
    where no grid holds it), so whoever limits reads by it reaches the community's staff as well as
    the street's; the street's path for a case placed before routing kept its area."""
    area_id = rc.area_id or rc.street_id
    area = directory.unit(session, area_id) if area_id else None
    emit(CaseDispatched(
        case_id=order.case_id, case_no=order.case_no, work_order_id=order.id, seq=order.seq,
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, unit_level=unit.level, role=order.role,
        assignee_id=order.assignee_id,
        # An assisting unit does not call the requester back: it is not told who they are.
        requester_id=order.requester_id if order.role == "lead" else None,
        rule=order.rule, dispatch_count=rc.dispatch_count, sign_deadline=order.sign_deadline,
        result_deadline=order.result_deadline, at=now, unit_path=unit.path,
        area_path=area.path if area is not None else None, kind=order.kind, urgency=order.urgency,
    ))


def open_dispatch(session: Session, emit: Emit, rc: RoutingCase, unit: Unit, *, rule: str, rule_id: str,
                  rule_version: int | None, now: datetime, actor_id: str | None = None,
                  assists: Iterable[Unit] = (), designated: bool = False) -> WorkOrder:
    """A new dispatch of the case: the assisting orders, then the lead order. Assisting units'
    events come first, so the last dispatched event of the case (the highest seq) names the lead."""
    if rc.state == "awaiting_designation":  # someone owns it now: the designation clock stops
        designation.done(session, rc, now)
    rc.dispatch_count += 1
    rc.state = "active"
    helpers = []
    for helper in assists:
        order = open_order(session, rc, helper, rule=f"协办：{rule}", rule_id=rule_id, rule_version=rule_version,
                           now=now, role="assist", actor_id=actor_id)
        announce(session, emit, rc, order, helper, now)
        helpers.append(order)
    lead = open_order(session, rc, unit, rule=rule, rule_id=rule_id, rule_version=rule_version, now=now,
                      designated=designated, actor_id=actor_id)
    for order in helpers:
        order.lead_id = lead.id
    if designated:
        fields = event_fields(session, rc, lead, now)
        timeline(session, lead, "designated", actor_id, None, now)
        emit(CaseDesignated(**fields, designated_by=actor_id))
        bump(rc, lead)  # the dispatched event after the designation stays the case's newest
    announce(session, emit, rc, lead, unit, now)
    return lead


def place(located: list[Located]) -> tuple[str | None, str | None]:
    """(the street, the finest area unit) among the units holding the point (Locator.locate, finest
    first); (None, None) unlocated."""
    areas = [loc for loc in located if loc.level in config.get().levels.areas]  # finest first
    street = next((loc.unit_id for loc in areas if loc.level == "street"), None)
    return street, (areas[0].unit_id if areas else None)


def kind_of(event: CaseSubmitted) -> str:
    """What the case's work orders are for (models.KINDS), from what intake sent: 表扬 praise and 建议
    suggestion by appeal type; a private matter (私事: the `guidance` flag when intake sends one, else
    the matter class) guidance; anything else work, handled on the clocks and scored in 三率."""
    if event.appeal_type == "表扬":
        return "praise"
    if event.appeal_type == "建议":
        return "suggestion"
    guidance = getattr(event, "guidance", None)  # intake's flag, when its event carries one
    if guidance is None:
        guidance = event.matter_class == "私事"
    return "guidance" if guidance else "work"


def praised_unit(session: Session, event: CaseSubmitted) -> Unit | None:
    """The unit a praise names, when intake's event carries one routing knows: `praised_unit_id` (the
    `unit_id` of a dispatched event, e.g. of the case the resident thanks them for) or
    `praised_unit_code`. Otherwise the praise goes where the list sends its place and category."""
    unit_id = getattr(event, "praised_unit_id", None)
    unit = session.get(Unit, unit_id) if unit_id else None
    code = getattr(event, "praised_unit_code", None)
    if unit is None and code:
        unit = session.scalars(select(Unit).where(Unit.code == code)).first()
    return unit


def dispatch_submitted(session: Session, emit: Emit, locator: Locator, event: CaseSubmitted) -> None:
    """A new case: its routing record, the decision, the work orders. Nothing when already done.

    Without autoflush: everything it reads is reference data or already accounted for (choose_assignee),
    so a batch of cases is written in a few multi-row INSERTs at its COMMIT."""
    with session.no_autoflush:
        _dispatch_submitted(session, emit, locator, event)


def _dispatch_submitted(session: Session, emit: Emit, locator: Locator, event: CaseSubmitted) -> None:
    # One query for both: its routing record, or a work order of it (a replay from another handler path).
    if session.scalar(_DISPATCHED, {"case_id": event.case_id}) \
            or any(isinstance(o, RoutingCase) and o.case_id == event.case_id for o in session.new):
        return  # the second: dispatched earlier in this transaction, not flushed yet
    kind = kind_of(event)
    unit = praised_unit(session, event) if kind == "praise" else None
    # The point located once, for the decision and for where the case is.
    located = locator.locate(event.lon, event.lat) if event.lat is not None and event.lon is not None else []
    decision = None if unit is not None else decide(session, locator, category=event.category,
                                                    matter_class=event.matter_class, lat=event.lat, lon=event.lon,
                                                    located=located)
    street_id, area_id = place(located)
    rc = RoutingCase(
        case_id=event.case_id, case_no=event.case_no, seq=0, dispatch_count=0, state="active",
        category=event.category, matter_class=event.matter_class, urgency=event.urgency,
        clock_profile=event.clock_profile, lat=event.lat, lon=event.lon,
        requester_id=event.reporter_id, confidential=event.confidential, kind=kind,
        street_id=street_id, area_id=area_id, submitted_at=event.submitted_at,
        external_no=getattr(event, "external_no", None),  # the 12345 platform's order number, when it came from it
    )
    session.add(rc)
    now = utcnow()
    if kind == "praise":
        # 表扬 goes to the unit praised, for its record: nothing to handle, no clock, closed at once.
        if unit is not None:
            rule, rule_id, version = f"表扬：诉求人表扬{unit.name}（{unit.code}）", "praise", None
        else:
            unit, rule, rule_id, version = decision.unit, f"表扬：{decision.rule}", decision.rule_id, \
                decision.rule_version
        order = open_dispatch(session, emit, rc, unit, rule=rule, rule_id=rule_id, rule_version=version, now=now)
        session.flush()  # file_praise locks the case by a query
        workflow.file_praise(session, emit, order, now)
        return
    open_dispatch(session, emit, rc, decision.unit, rule=decision.rule, rule_id=decision.rule_id,
                  rule_version=decision.rule_version, now=now, assists=decision.assists)


def returned_units(session: Session, case_id: str) -> set[str]:
    return set(session.scalars(select(WorkOrder.unit_id).where(WorkOrder.case_id == case_id,
                                                               WorkOrder.status == "returned")))


def return_order(session: Session, emit: Emit, locator: Locator, order: WorkOrder, actor_id: str, now: datetime,
                 *, reason: str, legal_basis: str) -> None:
    """退单, then the case goes to the next owner the list names, skipping every unit that returned
    it; after the last allowed dispatch, or when nobody is left to take it, it waits for a
    supervisor's designation instead (designation.wait: its own clock, its designators told)."""
    rc = case_of(session, order)
    decision = None
    if rc.dispatch_count < config.get().clocks.max_dispatches:
        decision = decide(session, locator, category=rc.category, matter_class=rc.matter_class, lat=rc.lat,
                          lon=rc.lon, excluded=returned_units(session, rc.case_id) | {order.unit_id})
    workflow.return_order(session, emit, order, actor_id, now, reason=reason, legal_basis=legal_basis,
                          last=decision is None)
    if decision is None:
        designation.wait(session, emit, rc, order, now)
        return
    open_dispatch(session, emit, rc, decision.unit, rule=decision.rule, rule_id=decision.rule_id,
                  rule_version=decision.rule_version, now=now, assists=decision.assists)


def reopen(session: Session, emit: Emit, *, case_id: str, previous_unit_id: str | None, reporter_id: str | None,
           reason_code: str | None, now: datetime) -> None:
    """Not satisfied: the same unit handles it again, and the old result counts against it."""
    rc = session.get(RoutingCase, case_id, with_for_update=True)
    if rc is None:
        return
    previous = session.get(WorkOrder, rc.lead_work_order_id) if rc.lead_work_order_id else None
    unit_id = previous_unit_id or (previous.unit_id if previous else None)
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        return
    if previous is not None:
        if previous.status in workflow.ALLOWED["supervise"]:
            return  # still open: a reopening of an order being handled changes nothing
        previous.reopened = True
        if previous.evaluated is not True:
            previous.evaluated, previous.solved, previous.satisfaction = True, False, "不满意"
        timeline(session, previous, "reopened", reporter_id, {"reason_code": reason_code}, now)
    open_dispatch(session, emit, rc, unit, rule=f"重办：诉求人不满意，仍由{unit.name}（{unit.code}）办理",
                  rule_id="reopen", rule_version=None, now=now)


def reassign(session: Session, emit: Emit, order: WorkOrder, unit_code: str, actor_id: str, now: datetime,
             reason: str) -> WorkOrder:
    """改派 to another unit; the old order ends as reassigned, its history kept. To the unit that holds it
    already it is refused (409 `workorder.same_unit`): the same unit would get fresh clocks while the
    old order, overdue perhaps, left its scores (reassigned orders are not counted)."""
    unit = unit_by_code(session, unit_code)
    workflow.check(order, "reassign")
    if unit.id == order.unit_id:
        raise ApiError(409, "workorder.same_unit", field="unit_code")
    workflow.reassign_close(session, order, actor_id, now, reason)
    rc = case_of(session, order)
    rule = f"改派：{reason}；由{unit.name}（{unit.code}）办理"
    if order.role != "lead":  # another assisting unit is not another dispatch of the case
        new = open_order(session, rc, unit, rule=rule, rule_id="reassign", rule_version=None, now=now,
                         actor_id=actor_id, role=order.role, lead_id=order.lead_id)
        announce(session, emit, rc, new, unit, now)
        return new
    new = open_dispatch(session, emit, rc, unit, rule=rule, rule_id="reassign", rule_version=None, now=now,
                        actor_id=actor_id)
    # The assisting orders now help the new lead (and close with it).
    for assist in session.scalars(select(WorkOrder).where(
            WorkOrder.lead_id == order.id, WorkOrder.status.in_(workflow.ALLOWED["supervise"]))):
        assist.lead_id = new.id
    return new


# Who may own a designated 大事: the government levels down to the street, and departments.
MAJOR_OWNER_LEVELS = ("department", "utility")
MAJOR_LOWEST_AREA = "street"


def major_owner(unit: Unit) -> bool:
    """A unit a 大事 may be designated to: a department (or utility), or an area level at or above the
    street (levels.json `area_levels`, coarse to fine); never a community, grid or anything in them."""
    if unit.level in MAJOR_OWNER_LEVELS or unit.kind in MAJOR_OWNER_LEVELS:
        return True
    areas = config.get().levels.areas
    lowest = areas.index(MAJOR_LOWEST_AREA) if MAJOR_LOWEST_AREA in areas else len(areas) - 1
    return unit.level in areas[:lowest + 1]


def awaiting_designation(session: Session, case_id: str) -> RoutingCase:
    """The case, locked, when it waits for a supervisor to name its owner."""
    rc = session.get(RoutingCase, case_id, with_for_update=True)
    if rc is None:
        raise ApiError(404, "routing.case_not_found", field="case_id")
    if rc.state != "awaiting_designation":
        raise ApiError(409, "case.not_awaiting_designation", field="case_id")
    return rc


def designate(session: Session, emit: Emit, rc: RoutingCase, unit_code: str, actor_id: str, now: datetime,
              reason: str) -> WorkOrder:
    """指定: after the last allowed dispatch a supervisor names the owner, who cannot return it. A 大事
    goes to a department or a government level (the street or above), never down to a community or
    grid (422 `designation.major_below_street`)."""
    unit = unit_by_code(session, unit_code)
    if rc.matter_class == "大事" and not major_owner(unit):
        raise ApiError(422, "designation.major_below_street", field="unit_code")
    return open_dispatch(session, emit, rc, unit, rule=f"指定：{reason}；由{unit.name}（{unit.code}）办理",
                         rule_id="designation", rule_version=None, now=now, actor_id=actor_id, designated=True)
