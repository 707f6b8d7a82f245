"""The clocks of a work order (sign-for, first contact, result), which profile sets them, and the
scanner that fires them.

A clock is a row with its warning instant (75 % of the time by default) and its deadline.
`next_fire_at` is the next instant the scanner must act on it; the scanner finds due clocks
through its index, emits 预警/超期 and moves `next_fire_at` on in the same transaction, so
each event is emitted exactly once even with several scanners (rows are locked SKIP LOCKED
on PostgreSQL; SQLite serialises writers).
"""

import threading
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import metrics
from shared.background import every
from shared.db import utcnow
from shared.events.routing import CaseDesignationOverdue, CaseOverdue, CaseReportOverdue, CaseWarned
from shared.runtime import ServiceRuntime
from shared.uow import Emit

from . import config, people, workcalendar
from .config import Duration
from .journal import case_of, event_fields, timeline
from .models import OPEN_STATUSES, Clock, RoutingCase, Unit, Whistle, WorkOrder
from .workcalendar import WorkCalendar, deadline_and_warning

KINDS = ("sign", "contact", "result")
SCAN_BATCH = 500


def calendar(session: Session | None = None) -> WorkCalendar:
    """The official calendar of this transaction: the State Council's notices loaded (workcalendar)."""
    return WorkCalendar.for_session(session)


def profile_for(category: str, urgency: str, requested: str | None) -> str:
    """The clock profile of a case, at dispatch and after every change of its urgency: the
    stricter of the urgency's profile and the category's; on a tie the category's, so a complex
    matter stays on its long clock at 一般 and gets it back when a raised urgency is lowered.

    The category's profile is the one intake requested (by a name routing knows), else routing's
    own for the category; a category with neither has the urgency's."""
    cfg = config.get().clocks
    by_urgency = cfg.for_urgency(urgency)
    by_category = cfg.requested(requested) or cfg.for_category(category)
    if by_category is None or cfg.strictness(by_urgency) > cfg.strictness(by_category):
        return by_urgency
    return by_category


def start(session: Session, order: WorkOrder, now: datetime) -> None:
    """Start the clocks of a new lead order and put their deadlines on it: sign, contact and result
    for work; only the answer (its result clock) for a suggestion or guidance; none for praise."""
    cfg = config.get().clocks
    cal = calendar(session)
    if order.kind == "praise":  # nothing to do but take note: no clock, nothing to return
        return
    if order.kind == "work":
        profile = cfg.profiles[order.clock_profile]
        spans = {kind: getattr(profile, kind) for kind in KINDS}
    else:
        spans = {"result": cfg.answers[order.kind]}
    for kind, span in spans.items():
        deadline, warn, working = deadline_and_warning(cal, now, span, cfg.warn_ratio)
        setattr(order, f"{kind}_deadline", deadline)
        session.add(Clock(work_order_id=order.id, kind=kind, started_at=now, warn_at=warn, deadline=deadline,
                          working_time=working, next_fire_at=warn))
    order.return_deadline = cal.after(now, cfg.return_window)


def start_deadline(session: Session, order: WorkOrder, kind: str, now: datetime, span: Duration,
                   whistle_id: int | None = None) -> Clock:
    """A clock that only fires at its deadline (no 预警): a case waiting for 指定 on its returned
    order (`designate`), or a whistled department's report (`report`)."""
    deadline, _, working = deadline_and_warning(calendar(session), now, span, config.get().clocks.warn_ratio)
    clock = Clock(work_order_id=order.id, kind=kind, whistle_id=whistle_id, started_at=now, warn_at=deadline,
                  deadline=deadline, working_time=working, warned=True, next_fire_at=deadline)
    session.add(clock)
    return clock


def stop_kind(session: Session, order_id: str, kind: str, now: datetime, whistle_id: int | None = None) -> None:
    """Stop the running clocks of one kind of an order (a designation made, a report arrived)."""
    stmt = select(Clock).where(Clock.work_order_id == order_id, Clock.kind == kind, Clock.stopped_at.is_(None))
    if whistle_id is not None:
        stmt = stmt.where(Clock.whistle_id == whistle_id)
    for clock in session.scalars(stmt):
        clock.stopped_at, clock.next_fire_at = now, None


def stop(session: Session, order: WorkOrder, kind: str, now: datetime) -> bool:
    """Stop one clock; True when it stopped after its deadline (late)."""
    clock = session.scalars(select(Clock).where(Clock.work_order_id == order.id, Clock.kind == kind)).first()
    deadline = getattr(order, f"{kind}_deadline")
    if clock is not None and clock.stopped_at is None:
        clock.stopped_at, clock.next_fire_at = now, None
    return deadline is not None and now > deadline


def stop_all(session: Session, order: WorkOrder, now: datetime) -> None:
    for clock in session.scalars(select(Clock).where(Clock.work_order_id == order.id,
                                                     Clock.stopped_at.is_(None))):
        clock.stopped_at, clock.next_fire_at = now, None


def resume(session: Session, order: WorkOrder, kind: str) -> None:
    """Run a stopped clock again (a result that failed verification): the deadline is unchanged."""
    clock = session.scalars(select(Clock).where(Clock.work_order_id == order.id, Clock.kind == kind)).first()
    if clock is not None:
        clock.stopped_at = None
        clock.next_fire_at = None if clock.overdue else (clock.deadline if clock.warned else clock.warn_at)


def retime(session: Session, order: WorkOrder, profile: str, now: datetime) -> bool:
    """A new clock profile for an open order (its urgency changed): the running clocks keep their
    start and get the new profile's deadlines and warnings. A clock the change tightens is never
    timed into the past: its deadline is min(old deadline, max(start, now) + the new duration), so
    nobody is overdue the moment the urgency is raised. True when anything changed."""
    if profile == order.clock_profile:
        return False
    cfg = config.get().clocks
    spec = cfg.profiles[profile]
    order.clock_profile = profile
    cal = calendar(session)
    # Only the profile's own clocks: a whistle's report clock keeps its deadline.
    for clock in session.scalars(select(Clock).where(Clock.work_order_id == order.id, Clock.stopped_at.is_(None),
                                                     Clock.kind.in_(KINDS))):
        span = getattr(spec, clock.kind)
        deadline, warn, working = deadline_and_warning(cal, clock.started_at, span, cfg.warn_ratio)
        if deadline < clock.deadline:  # tightened: from the change at the earliest, never later than before
            from_now = deadline_and_warning(cal, now, span, cfg.warn_ratio)
            if from_now[0] > deadline:
                deadline, warn, working = from_now
            if clock.deadline <= deadline:
                deadline, warn, working = clock.deadline, clock.warn_at, clock.working_time
        clock.deadline, clock.warn_at, clock.working_time = deadline, warn, working
        setattr(order, f"{clock.kind}_deadline", deadline)
        # A stricter clock may already be past its warning or deadline: the scanner fires it now.
        clock.warned = clock.warned and warn <= now
        clock.overdue = clock.overdue and deadline <= now
        clock.next_fire_at = None if clock.overdue else (deadline if clock.warned else warn)
    return True


def change_urgency(session: Session, case_id: str, urgency: str, previous: str | None, actor_id: str | None,
                   now: datetime) -> None:
    """Intake changed a case's urgency: the open lead order is put on the clocks it now deserves."""
    rc = session.get(RoutingCase, case_id, with_for_update=True)
    if rc is None:
        return  # never dispatched here (a dispute, a consultation answered on the spot)
    rc.urgency = urgency
    order = session.get(WorkOrder, rc.lead_work_order_id) if rc.lead_work_order_id else None
    if order is None or order.status not in OPEN_STATUSES:
        return
    order.urgency = urgency
    if order.kind != "work":  # an answer's clock is its kind's, not the urgency's
        return
    profile = profile_for(rc.category, urgency, rc.clock_profile)
    if retime(session, order, profile, now):
        timeline(session, order, "urgency", actor_id,
                 {"urgency": urgency, "previous": previous, "clock_profile": profile}, now)


def move_deadline(session: Session, order: WorkOrder, kind: str, new_deadline: datetime, now: datetime) -> None:
    """An approved extension: a new deadline, the warning recomputed at the same share of the time."""
    clock = session.scalars(select(Clock).where(Clock.work_order_id == order.id, Clock.kind == kind)).first()
    setattr(order, f"{kind}_deadline", new_deadline)
    if clock is None:
        return
    ratio = config.get().clocks.warn_ratio
    cal = calendar(session)
    if clock.working_time:
        span = cal.elapsed(clock.started_at, new_deadline)
        clock.warn_at = cal.add(clock.started_at, seconds=span.total_seconds() * ratio)
    else:
        clock.warn_at = clock.started_at + (new_deadline - clock.started_at) * ratio
    clock.deadline = new_deadline
    if clock.warn_at > now:
        clock.warned = False
    if new_deadline > now:
        clock.overdue = False
    if clock.stopped_at is None:
        clock.next_fire_at = None if clock.overdue else (clock.deadline if clock.warned else clock.warn_at)


def scan(session: Session, emit: Emit, now: datetime | None = None, limit: int = SCAN_BATCH) -> int:
    """Fire every due clock once, in this transaction; returns how many clocks it handled."""
    now = now or utcnow()
    due = session.scalars(
        select(Clock).where(Clock.next_fire_at <= now).order_by(Clock.next_fire_at).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    handled = 0
    for clock in due:
        # Locks in the API's order (work order, then case): an order being changed right now is
        # left for the next scan, and the case row is locked before its counter is read, so an
        # event never reuses a seq another transaction of the case just took.
        order = session.get(WorkOrder, clock.work_order_id, with_for_update={"skip_locked": True})
        if order is None:
            continue
        handled += 1
        rc = case_of(session, order)
        if clock.kind not in KINDS:  # a designation's or a whistle's: one event at the deadline
            clock.overdue, clock.next_fire_at = True, None
            unit = session.get(Unit, order.unit_id) if order.unit_id else None
            metrics.clock_fired("overdue", clock.kind, unit.level if unit else None, order.urgency)
            (_designation_overdue if clock.kind == "designate" else _report_overdue)(
                session, emit, rc, order, clock, now)
            continue
        fire = []
        if not clock.warned:
            clock.warned = True
            if clock.deadline > now:  # a scanner that was down past the deadline skips the stale warning
                fire.append(CaseWarned)
        if clock.deadline <= now and not clock.overdue:
            clock.overdue = True
            fire.append(CaseOverdue)
        clock.next_fire_at = None if clock.overdue else clock.deadline
        for cls in fire:
            fields = event_fields(session, rc, order, now)
            kind = "warned" if cls is CaseWarned else "overdue"
            unit = session.get(Unit, order.unit_id) if order.unit_id else None
            metrics.clock_fired(kind, clock.kind, unit.level if unit else None, order.urgency)
            timeline(session, order, kind, None, {"clock": clock.kind, "deadline": clock.deadline.isoformat()}, now)
            emit(cls(**fields, clock=clock.kind, deadline=clock.deadline, assignee_id=order.assignee_id,
                     urgency=order.urgency))
    return handled


def _designation_overdue(session: Session, emit: Emit, rc: RoutingCase, order: WorkOrder, clock: Clock,
                         now: datetime) -> None:
    """Nobody designated an owner in time: the supervisors above the case are told again."""
    if rc.state != "awaiting_designation" or rc.lead_work_order_id != order.id:
        return  # designated or withdrawn meanwhile (its clock would have stopped; nothing to say)
    unit, designators = people.designators(session, rc.matter_class, (order.unit_id, rc.area_id, rc.street_id))
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "designation_overdue", None,
             {"deadline": clock.deadline.isoformat(), "designating_unit": unit.name if unit else None}, now)
    emit(CaseDesignationOverdue(**fields, dispatch_count=rc.dispatch_count,
                                designating_unit_id=unit.id if unit else "", designating_unit_name=unit.name if unit
                                else "", designator_ids=designators, deadline=clock.deadline))


def _report_overdue(session: Session, emit: Emit, rc: RoutingCase, order: WorkOrder, clock: Clock,
                    now: datetime) -> None:
    """A whistled department did not report by its deadline: its staff and the calling street's
    supervisors are told (notify), and the order shows on the overdue list."""
    whistle = session.get(Whistle, clock.whistle_id) if clock.whistle_id is not None else None
    if whistle is None or whistle.reported_at is not None:
        return
    dept = session.get(Unit, whistle.department_unit_id)
    caller = session.get(Unit, order.unit_id)
    street = next((u for u in people.chain(session, (caller.id,)) if u.level == "street"), None)
    _, street_supervisors = people.nearest_supervisors(session, (street.id if street else order.street_id,))
    fields = event_fields(session, rc, order, now)
    # The timeline names the department (staff read names, not ids).
    timeline(session, order, "report_overdue", None,
             {"department": dept.name, "department_code": dept.code, "deadline": whistle.deadline.isoformat()}, now)
    emit(CaseReportOverdue(**fields, whistle_id=whistle.id, department_unit_id=dept.id, department_code=dept.code,
                           department_name=dept.name, called_by=whistle.called_by, called_at=whistle.called_at,
                           deadline=whistle.deadline, street_unit_id=street.id if street else order.street_id,
                           street_supervisor_ids=street_supervisors))


def run_scanner(rt: ServiceRuntime, stop_event: threading.Event) -> None:
    """The worker's clock thread: a full batch scans again at once, otherwise it waits the interval."""

    def step() -> int:
        with rt.unit_of_work() as uow:
            workcalendar.announce_uncovered(uow.session, uow.emit, utcnow())
            return scan(uow.session, uow.emit)

    every(config.get().clocks.scan_interval_seconds, step, stop_event, name="routing clock scan",
          full_batch=SCAN_BATCH)
