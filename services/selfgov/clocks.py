"""居民直评 figures told to routing (selfgov.ratings.scored), run by the worker's scanner, after the ratings waiting
to be counted are released in shuffled batches (selfgov.ratings.release) in a transaction of their own.

Per rating period, at most every PUBLISH_EVERY seconds, the period's figures are recomputed and published only
when they changed, and once more, `final`, when the period is over; then the period is left alone. One event
for a whole period, never one per rating: an event's timing and correlation id must not tell who answered, so
an hourly aggregate is all that leaves the service.

A period's row is claimed with FOR UPDATE SKIP LOCKED (several workers scan; SQLite serialises writers) and
updated in the transaction that writes the outbox row, so a change is told once.
"""

import threading
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from shared import periods
from shared.background import every
from shared.db import utcnow
from shared.events.selfgov import RatingsScored, UnitRatingScore
from shared.runtime import ServiceRuntime

from . import ratings
from .models import Rating, RatingPublication

PUBLISH_EVERY = 3600  # seconds: a figure an hour old is fresh enough for a monthly score
SCAN_EVERY = 300  # seconds between scans: a period due is published within this of its hour
BATCH = 20


def _open_periods(session) -> None:
    """A row for every period that has ratings and none yet."""
    known = set(session.scalars(select(RatingPublication.period)))
    rated = set(session.scalars(select(Rating.period).distinct()))
    for period in sorted(rated - known):
        try:
            with session.begin_nested():  # another scanner may be adding the same row
                session.add(RatingPublication(period=period, final=False))
                session.flush()
        except IntegrityError:
            pass


def publish(rt: ServiceRuntime, now: datetime | None = None, batch: int = BATCH) -> int:
    """One pass; returns how many events it emitted."""
    now = now or utcnow()
    emitted = 0
    with rt.unit_of_work() as uow:  # its own transaction: none of a resident's requests is in it
        ratings.release(uow.session, now)
    with rt.unit_of_work() as uow:
        session = uow.session
        _open_periods(session)
        due = (select(RatingPublication)
               .where(RatingPublication.final.is_(False),
                      or_(RatingPublication.checked_at.is_(None),
                          RatingPublication.checked_at <= now - timedelta(seconds=PUBLISH_EVERY)))
               .order_by(RatingPublication.period).limit(batch).with_for_update(skip_locked=True))
        for row in session.scalars(due):
            # Final only once none of the period's ratings waits: another worker may be counting a batch of them
            # right now, and after `final` the period is never told again.
            final = periods.parse(row.period).end <= now and not ratings.waiting(session, row.period)
            figures = ratings.scores(session, row.period, None)
            digest = ratings.fingerprint(figures)
            row.checked_at = now
            if digest != row.fingerprint or final:
                uow.emit(RatingsScored(period=row.period, final=final, at=now, units=[
                    UnitRatingScore(unit_id=r["unit_id"], unit_code=r["unit_code"], level=r["level"],
                                    responses=r["responses"], score=r["score"]) for r in figures]))
                row.fingerprint, row.published_at = digest, now
                emitted += 1
            row.final = final
    return emitted


def background(rt: ServiceRuntime, stop: threading.Event) -> None:
    every(SCAN_EVERY, lambda: publish(rt), stop, name="selfgov rating publication", full_batch=BATCH)
