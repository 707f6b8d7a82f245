"""The clocks: overdue disputes, due follow-ups (回访 for the mediators; the 司法确认 reminder, for the parties
too) and session reminders, fired by a periodic scanner in the worker, which also anonymises the disputes
closed longer than the retention period (retention.py).

Each event is emitted exactly once: the row is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers can scan; SQLite serialises writers) and marked in the same transaction as the
outbox row that carries the event.
"""

import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from shared.background import every
from shared.db import utcnow
from shared.events import mediation as ev
from shared.runtime import ServiceRuntime

from . import config, retention
from .agreement import COURT_CONFIRMATION_BASIS
from .disputes import active_mediator_ids, party_user_ids, publish
from .models import Agreement, Dispute, Followup, MediationSession, Participant

BATCH = 200  # rows of each kind claimed per pass


def scan(rt: ServiceRuntime, now: datetime | None = None, batch: int = BATCH) -> int:
    """One pass; returns how many events it emitted."""
    now = now or utcnow()
    emitted = 0
    with rt.unit_of_work() as uow:
        session, emit = uow.session, uow.emit
        for dispute in session.scalars(
                select(Dispute).where(Dispute.status == "accepted", Dispute.deadline < now,
                                      Dispute.overdue_emitted_at.is_(None))
                .order_by(Dispute.deadline).limit(batch).with_for_update(skip_locked=True)):
            dispute.overdue_emitted_at = now
            publish(emit, dispute, ev.DisputeOverdue, now, deadline=dispute.deadline,
                    mediator_ids=active_mediator_ids(session, dispute.id))
            emitted += 1
        for followup in session.scalars(
                select(Followup).where(Followup.emitted_at.is_(None), Followup.due_at <= now)
                .order_by(Followup.due_at).limit(batch).with_for_update(skip_locked=True)):
            dispute = session.get(Dispute, followup.dispute_id)
            followup.emitted_at = now
            about = {"term_id": followup.term_id}
            if followup.kind == "court_confirmation":  # the parties' reminder: what it is, until when
                agreement = session.get(Agreement, followup.agreement_id)
                about = {"effective_at": agreement.effective_at,
                         "court_confirmation_deadline": agreement.court_deadline,
                         "legal_basis": COURT_CONFIRMATION_BASIS}
            publish(emit, dispute, ev.FollowupDue, now, agreement_id=followup.agreement_id, kind=followup.kind,
                    due_at=followup.due_at, mediator_ids=active_mediator_ids(session, dispute.id),
                    party_user_ids=party_user_ids(session, dispute.id), **about)
            emitted += 1
        # Participants are reminded once, when the session is within the reminder lead time.
        lead = timedelta(hours=config.get().procedure.session_reminder_hours)
        for meeting in session.scalars(
                select(MediationSession).where(MediationSession.status == "scheduled",
                                               MediationSession.reminded_at.is_(None),
                                               MediationSession.starts_at > now,
                                               MediationSession.starts_at <= now + lead)
                .order_by(MediationSession.starts_at).limit(batch).with_for_update(skip_locked=True)):
            meeting.reminded_at = now
            participants = session.scalars(select(Participant.user_id).where(Participant.session_id == meeting.id))
            publish(emit, session.get(Dispute, meeting.dispute_id), ev.SessionReminder, now, session_id=meeting.id,
                    starts_at=meeting.starts_at, online=bool(meeting.online_link and not meeting.place),
                    participant_user_ids=sorted({u for u in participants if u}))
            emitted += 1
    return emitted


def background(rt: ServiceRuntime, stop: threading.Event) -> None:
    """The worker's scanner thread (ServiceSpec.background). A pass that filled a batch of some kind
    (so at least BATCH events, or BATCH disputes anonymised) goes on at once: a backlog after downtime
    drains without waiting."""
    every(config.get().procedure.scan_interval_seconds, lambda: scan(rt) + retention.anonymise(rt), stop,
          name="mediation clock scan", full_batch=BATCH)
