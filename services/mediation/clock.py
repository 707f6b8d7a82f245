"""The clocks: overdue disputes and due follow-ups, fired by a periodic scanner in the worker.

Each event is emitted exactly once: the row is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers can scan; SQLite serialises writers) and marked in the same transaction as the
outbox row that carries the event.
"""

import logging
import threading
from datetime import datetime

from sqlalchemy import select

from shared.db import utcnow
from shared.events import mediation as ev
from shared.runtime import ServiceRuntime

from . import config
from .disputes import active_mediator_ids, emit, party_user_ids
from .models import Dispute, Followup

log = logging.getLogger(__name__)


def scan(rt: ServiceRuntime, now: datetime | None = None, batch: int = 200) -> int:
    """One pass; returns how many events it emitted."""
    now = now or utcnow()
    emitted = 0
    with rt.uow() as session:
        out = lambda p: rt.outbox.emit(session, p)  # noqa: E731
        for dispute in session.scalars(
                select(Dispute).where(Dispute.status == "accepted", Dispute.deadline < now,
                                      Dispute.overdue_emitted_at.is_(None))
                .order_by(Dispute.deadline).limit(batch).with_for_update(skip_locked=True)):
            dispute.overdue_emitted_at = now
            emit(out, dispute, ev.DisputeOverdue, now, deadline=dispute.deadline,
                 mediator_ids=active_mediator_ids(session, dispute.id))
            emitted += 1
        for followup in session.scalars(
                select(Followup).where(Followup.emitted_at.is_(None), Followup.due_at <= now)
                .order_by(Followup.due_at).limit(batch).with_for_update(skip_locked=True)):
            dispute = session.get(Dispute, followup.dispute_id)
            followup.emitted_at = now
            emit(out, dispute, ev.FollowupDue, now, agreement_id=followup.agreement_id, kind=followup.kind,
                 due_at=followup.due_at, mediator_ids=active_mediator_ids(session, dispute.id),
                 party_user_ids=party_user_ids(session, dispute.id))
            emitted += 1
    return emitted


def background(rt: ServiceRuntime, stop: threading.Event) -> None:
    """The worker's scanner thread (ServiceSpec.background)."""
    interval = float(config.settings()["scan_interval_seconds"])
    while not stop.is_set():
        try:
            while scan(rt) > 0 and not stop.is_set():
                pass  # a full batch: go on at once
        except Exception:  # a database hiccup must not kill the worker; the next pass retries
            log.exception("mediation clock scan failed")
        stop.wait(interval)
