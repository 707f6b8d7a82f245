"""The clocks: overdue disputes, due follow-ups and session reminders, fired by a periodic scanner in the worker.

Each event is emitted exactly once: the row is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers can scan; SQLite serialises writers) and marked in the same transaction as the
outbox row that carries the event.
"""

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from shared.db import utcnow
from shared.events import mediation as ev
from shared.runtime import ServiceRuntime

from . import config
from .disputes import active_mediator_ids, emit, party_user_ids
from .models import Dispute, Followup, MediationSession, Participant

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
        # Participants are reminded once, when the session is within the reminder lead time.
        lead = timedelta(hours=float(config.settings().get("session_reminder_hours", 24)))
        for meeting in session.scalars(
                select(MediationSession).where(MediationSession.status == "scheduled",
                                               MediationSession.reminded_at.is_(None),
                                               MediationSession.starts_at > now,
                                               MediationSession.starts_at <= now + lead)
                .order_by(MediationSession.starts_at).limit(batch).with_for_update(skip_locked=True)):
            meeting.reminded_at = now
            participants = session.scalars(select(Participant.user_id).where(Participant.session_id == meeting.id))
            emit(out, session.get(Dispute, meeting.dispute_id), ev.SessionReminder, now, session_id=meeting.id,
                 starts_at=meeting.starts_at, online=bool(meeting.online_link and not meeting.place),
                 participant_user_ids=sorted({u for u in participants if u}))
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
