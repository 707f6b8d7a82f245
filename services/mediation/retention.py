"""Retention: a dispute closed longer than `retention_days` (data/procedure.json, 3 years by default) keeps
its record (the committee's 卷宗: what happened, the agreement, the figures) but not who the people were.

The parties' names, phones (and their blind index, so nobody is found by it any more), ID numbers,
addresses and representatives are removed; the names of session participants who are not mediators
too; phone and ID numbers typed into the free text (the matter, the claims, records, the agreement)
are masked. The answers kept for applications' Idempotency-Keys (they name the parties) go once older than
the period. The clock scanner runs it (clocks.background); each pass that did something leaves one
audit entry with the counts. Claimed with FOR UPDATE SKIP LOCKED, so several workers share it.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.masking import mask_free_text
from shared.runtime import ServiceRuntime

from . import config
from .models import (
    OPEN_STATUSES,
    Agreement,
    Dispute,
    Extension,
    Followup,
    IdempotencyKey,
    MediationSession,
    Objection,
    Participant,
    Party,
    RiskAssessment,
    Term,
)

BATCH = 200
ANONYMOUS = "（已匿名）"
PERSONAL = ("phone", "phone_index", "id_number", "address", "representative_name", "representative_phone")


def _mask(rows, *fields) -> None:
    for row in rows:
        for field in fields:
            setattr(row, field, mask_free_text(getattr(row, field)))


def anonymise_dispute(session: Session, dispute: Dispute, now: datetime) -> tuple[int, int]:
    """One dispute's personal data removed; (parties, participants) anonymised."""
    people = list(session.scalars(select(Party).where(Party.dispute_id == dispute.id)))
    for p in people:
        p.name = ANONYMOUS
        for field in PERSONAL:
            setattr(p, field, None)
        p.refusal_reason = mask_free_text(p.refusal_reason)
    meetings = list(session.scalars(select(MediationSession).where(MediationSession.dispute_id == dispute.id)))
    attendees = list(session.scalars(select(Participant).where(
        Participant.session_id.in_([m.id for m in meetings]), Participant.kind != "mediator"))) if meetings else []
    for a in attendees:
        a.name = ANONYMOUS
    _mask([dispute], "matter", "claims", "close_reason")
    _mask(meetings, "record")
    agreement = session.scalar(select(Agreement).where(Agreement.dispute_id == dispute.id))
    if agreement is not None:
        _mask([agreement], "facts")
        _mask(session.scalars(select(Term).where(Term.agreement_id == agreement.id)), "obligation")
    _mask(session.scalars(select(Followup).where(Followup.dispute_id == dispute.id)), "note")
    _mask(session.scalars(select(RiskAssessment).where(RiskAssessment.dispute_id == dispute.id)), "note")
    _mask(session.scalars(select(Objection).where(Objection.dispute_id == dispute.id)), "reason")
    _mask(session.scalars(select(Extension).where(Extension.dispute_id == dispute.id)), "reason")
    dispute.anonymised_at = now
    return len(people), len(attendees)


def anonymise(rt: ServiceRuntime, now: datetime | None = None, batch: int = BATCH) -> int:
    """One pass: the disputes closed before the retention period, anonymised; returns how many."""
    now = now or utcnow()
    days = config.get().procedure.retention_days
    cutoff = now - timedelta(days=days)
    with rt.unit_of_work() as uow:
        session = uow.session
        # An application's kept answer names its parties; a retry comes within minutes, never years later.
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
        due = list(session.scalars(
            select(Dispute).where(Dispute.status.not_in(OPEN_STATUSES), Dispute.closed_at < cutoff,
                                  Dispute.anonymised_at.is_(None))
            .order_by(Dispute.closed_at).limit(batch).with_for_update(skip_locked=True)))
        if not due:
            return 0
        parties = participants = 0
        for dispute in due:
            p, a = anonymise_dispute(session, dispute, now)
            parties, participants = parties + p, participants + a
        uow.audit("retention.anonymised", detail={
            "disputes": len(due), "parties": parties, "participants": participants, "retention_days": days,
            "closed_before": cutoff.isoformat(), "dispute_ids": [d.id for d in due]})
    return len(due)
