"""The grid's clocks, run by the worker's scanner: the daily patrol rule (一日双巡) checked at `check_at` local
time, a missed day warned to the community (grid.patrol.missed), and overdue care visits (grid.visit.overdue).

Each warning is emitted exactly once: the row is claimed with FOR UPDATE SKIP LOCKED (several workers scan;
SQLite serialises writers) and marked in the same transaction as the outbox row carrying the event. A patrol
synced from a phone after its day was checked shows in the day's view but does not retract the warning.
"""

import threading
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from shared.background import every
from shared.config import local_zone
from shared.db import utcnow
from shared.events.grid import PatrolMissed, VisitOverdue
from shared.ids import unit_id
from shared.runtime import ServiceRuntime

from . import config, directory
from .models import Entry, Grid, Patrol, PatrolDay

BATCH = 200


def due_at(day: date) -> datetime:
    return datetime.combine(day, config.get().patrol.check_at, tzinfo=local_zone())


def _open_days(session, now: datetime) -> None:
    """A row per grid for today and yesterday (a scanner down at check time still checks yesterday)."""
    today = now.astimezone(local_zone()).date()
    for grid in directory.grids(session):
        for day in (today - timedelta(days=1), today):
            if session.get(PatrolDay, (grid.code, day.isoformat())) is not None:
                continue
            try:
                with session.begin_nested():  # another scanner may be adding the same row
                    session.add(PatrolDay(grid_code=grid.code, day=day.isoformat(), due_at=due_at(day),
                                          required=config.get().patrol.required(grid.code), status="pending"))
                    session.flush()
            except IntegrityError:
                pass


def scan(rt: ServiceRuntime, now: datetime | None = None, batch: int = BATCH) -> int:
    """One pass; returns how many warnings it emitted."""
    now = now or utcnow()
    emitted = 0
    with rt.unit_of_work() as uow:
        session = uow.session
        _open_days(session, now)
        for row in session.scalars(select(PatrolDay).where(PatrolDay.status == "pending", PatrolDay.due_at <= now)
                                   .order_by(PatrolDay.due_at).limit(batch).with_for_update(skip_locked=True)):
            patrols = session.execute(select(Patrol.worker_id, Patrol.counts).where(
                Patrol.grid_code == row.grid_code, Patrol.day == row.day)).all()
            row.done = sum(1 for p in patrols if p.counts)
            row.checked_at = now
            row.status = "met" if row.done >= row.required else "missed"
            if row.status == "missed":
                grid = session.get(Grid, row.grid_code)
                community = grid.community_code if grid else None
                uow.emit(PatrolMissed(grid_code=row.grid_code, grid_id=unit_id(row.grid_code),
                                      community_code=community, community_id=unit_id(community) if community else None,
                                      day=row.day, required=row.required, done=row.done,
                                      worker_ids=sorted({p.worker_id for p in patrols})))
                emitted += 1
        for person in session.scalars(
                select(Entry).where(Entry.kind == "person", Entry.active.is_(True), Entry.visit_due_at <= now,
                                    or_(Entry.overdue_warned_at.is_(None),
                                        Entry.overdue_warned_at < Entry.visit_due_at))
                .order_by(Entry.visit_due_at).limit(batch).with_for_update(skip_locked=True)):
            person.overdue_warned_at = now
            grid = session.get(Grid, person.grid_code)
            community = grid.community_code if grid else None
            uow.emit(VisitOverdue(person_id=person.id, grid_code=person.grid_code, grid_id=unit_id(person.grid_code),
                                  community_code=community, community_id=unit_id(community) if community else None,
                                  due_at=person.visit_due_at))
            emitted += 1
    return emitted


def background(rt: ServiceRuntime, stop: threading.Event) -> None:
    every(config.get().patrol.scan_interval_seconds, lambda: scan(rt), stop, name="grid clock scan",
          full_batch=BATCH)
