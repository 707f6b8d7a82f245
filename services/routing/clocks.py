"""The clocks of a work order (sign-for, first contact, result) and the scanner that fires them.

A clock is a row with its warning instant (75 % of the time by default) and its deadline.
`next_fire_at` is the next instant the scanner must act on it; the scanner finds due clocks
through its index, emits 预警/超期 and moves `next_fire_at` on in the same transaction, so
each event is emitted exactly once even with several scanners (rows are locked SKIP LOCKED
on PostgreSQL; SQLite serialises writers).
"""

import logging
import threading
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.events.routing import CaseOverdue, CaseWarned
from shared.runtime import ServiceRuntime

from . import settings
from .models import Clock, RoutingCase, Unit, WorkOrder
from .workcalendar import WorkCalendar, deadline_and_warning

log = logging.getLogger(__name__)
KINDS = ("sign", "contact", "result")


def calendar() -> WorkCalendar:
    return WorkCalendar(settings.clocks().get("timezone", "Asia/Shanghai"))


def profile_name(category: str, urgency: str, requested: str | None) -> str:
    """The clock profile: the one intake asked for, else the category's, else the urgency's."""
    cfg = settings.clocks()
    profiles = cfg["profiles"]
    if requested and requested in profiles:
        return requested
    by_category = cfg.get("categories", {})
    if category in by_category:
        return by_category[category]
    prefixes = [p for p in by_category if p.endswith(".*") and category.startswith(p[:-1])]
    if prefixes:
        return by_category[max(prefixes, key=len)]
    return urgency if urgency in profiles else "一般"


def start(session: Session, order: WorkOrder, now: datetime) -> None:
    """Start the three clocks of a new work order and put their deadlines on it."""
    cfg = settings.clocks()
    profile = cfg["profiles"][order.clock_profile or "一般"]
    cal = calendar()
    for kind in KINDS:
        deadline, warn, working = deadline_and_warning(cal, now, profile[kind], cfg["warn_ratio"])
        setattr(order, f"{kind}_deadline", deadline)
        session.add(Clock(work_order_id=order.id, kind=kind, started_at=now, warn_at=warn, deadline=deadline,
                          working_time=working, next_fire_at=warn))
    order.return_deadline = cal.add(now, **_as_kwargs(cfg["return_window"]))


def _as_kwargs(spec: dict) -> dict:
    if "working_days" in spec:
        return {"working_days": spec["working_days"]}
    return {"seconds": spec.get("days", 0) * 86400 + spec.get("hours", 0) * 3600 + spec.get("minutes", 0) * 60}


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
    start and get the new profile's deadlines and warnings. True when anything changed."""
    if profile == order.clock_profile:
        return False
    cfg = settings.clocks()
    spec = cfg["profiles"][profile]
    order.clock_profile = profile
    cal = calendar()
    for clock in session.scalars(select(Clock).where(Clock.work_order_id == order.id, Clock.stopped_at.is_(None))):
        deadline, warn, working = deadline_and_warning(cal, clock.started_at, spec[clock.kind], cfg["warn_ratio"])
        clock.deadline, clock.warn_at, clock.working_time = deadline, warn, working
        setattr(order, f"{clock.kind}_deadline", deadline)
        # A stricter clock may already be past its warning or deadline: the scanner fires it now.
        clock.warned = clock.warned and warn <= now
        clock.overdue = clock.overdue and deadline <= now
        clock.next_fire_at = None if clock.overdue else (deadline if clock.warned else warn)
    return True


def move_deadline(session: Session, order: WorkOrder, kind: str, new_deadline: datetime, now: datetime) -> None:
    """An approved extension: a new deadline, the warning recomputed at the same share of the time."""
    clock = session.scalars(select(Clock).where(Clock.work_order_id == order.id, Clock.kind == kind)).first()
    setattr(order, f"{kind}_deadline", new_deadline)
    if clock is None:
        return
    ratio = settings.clocks()["warn_ratio"]
    cal = calendar()
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


def scan(session: Session, now: datetime | None = None, limit: int = 500) -> list:
    """Fire every due clock once; returns the events to emit (in this transaction)."""
    from .workflow import bump  # the case counter lives with the transitions

    now = now or utcnow()
    due = session.scalars(
        select(Clock).where(Clock.next_fire_at <= now).order_by(Clock.next_fire_at).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    events = []
    for clock in due:
        # Locks in the API's order (work order, then case): an order being changed right now is
        # left for the next scan, and the case row is locked before its counter is read, so an
        # event never reuses a seq another transaction of the case just took.
        order = session.get(WorkOrder, clock.work_order_id, with_for_update={"skip_locked": True})
        if order is None:
            continue
        rc = session.get(RoutingCase, order.case_id, with_for_update=True)
        unit = session.get(Unit, order.unit_id)
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
            seq = bump(session, rc, order)
            kind = "warned" if cls is CaseWarned else "overdue"
            from .workflow import timeline

            timeline(session, order, kind, None, {"clock": clock.kind, "deadline": clock.deadline.isoformat()}, now)
            events.append(cls(case_id=order.case_id, case_no=order.case_no, work_order_id=order.id, seq=seq,
                              unit_id=unit.id, unit_name=unit.name, at=now, clock=clock.kind,
                              deadline=clock.deadline, assignee_id=order.assignee_id))
    return events


def run_scanner(rt: ServiceRuntime, stop_event: threading.Event) -> None:
    """The worker's clock thread: scan, emit, sleep; errors are logged and the loop goes on."""
    interval = float(settings.clocks().get("scan_interval_seconds", 5))
    while not stop_event.is_set():
        try:
            while True:
                with rt.uow() as session:
                    events = scan(session)
                    for event in events:
                        rt.outbox.emit(session, event)
                if len(events) == 0:
                    break
        except Exception as exc:  # a bad row must not kill the clocks of every other order
            log.warning("routing clock scan failed: %s", type(exc).__name__)
        stop_event.wait(interval)
