"""Extending the one-month clock (延长调解期限): requested by the mediator, granted only when every
party consents; one refusal refuses it."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import ApiError

from . import config
from .disputes import parties, require_accepted
from .models import Dispute, Extension, ExtensionConsent, Party


def request(session: Session, dispute: Dispute, days: int, reason: str, by: str) -> Extension:
    require_accepted(dispute)
    if days > config.get().procedure.max_extension_days:
        raise ApiError(422, "validation.out_of_range", field="days")
    if session.scalar(select(Extension.id).where(Extension.dispute_id == dispute.id, Extension.status == "pending")):
        raise ApiError(409, "extension.pending")
    ext = Extension(dispute_id=dispute.id, days=days, reason=reason, requested_by=by, status="pending")
    session.add(ext)
    session.flush()
    return ext


def of(session: Session, dispute: Dispute, extension_id: str) -> Extension:
    ext = session.get(Extension, extension_id)
    if ext is None or ext.dispute_id != dispute.id:
        raise ApiError(404, "extension.not_found", field="extension_id")
    return ext


def of_dispute(session: Session, dispute_id: str) -> list[Extension]:
    return list(session.scalars(select(Extension).where(Extension.dispute_id == dispute_id)
                                .order_by(Extension.requested_at)))


def consented_party_ids(session: Session, extension_id: str) -> list[str]:
    return list(session.scalars(select(ExtensionConsent.party_id).where(
        ExtensionConsent.extension_id == extension_id, ExtensionConsent.consent.is_(True))))


def record_consent(session: Session, dispute: Dispute, ext: Extension, party: Party, consent: bool, by: str) -> None:
    """Extended only when every party has consented; one refusal refuses it."""
    require_accepted(dispute)
    if ext.status != "pending":
        raise ApiError(409, "extension.decided")
    if session.scalar(select(ExtensionConsent.id).where(ExtensionConsent.extension_id == ext.id,
                                                        ExtensionConsent.party_id == party.id)):
        raise ApiError(409, "party.consent_recorded")
    session.add(ExtensionConsent(extension_id=ext.id, party_id=party.id, consent=consent, recorded_by=by))
    session.flush()
    now = utcnow()
    if not consent:
        ext.status, ext.decided_at = "refused", now
        return
    agreed = set(consented_party_ids(session, ext.id))
    if all(p.id in agreed for p in parties(session, dispute.id)):
        ext.status, ext.decided_at = "granted", now
        dispute.deadline = dispute.deadline + timedelta(days=ext.days)
        dispute.overdue_emitted_at = None  # a new deadline may be missed again, and is reported again
