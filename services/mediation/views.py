"""What a reader sees of a dispute's record: contact details, and phone or ID numbers typed into any of
its free text (the matter, the claims, reasons, the 笔录, the agreement, follow-up notes), masked for
everyone but the mediators."""

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.masking import mask_address, mask_free_text, mask_id_number, mask_phone

from . import agreement as agreements
from . import config, directory, disputes, extensions, meetings
from .models import (
    STATUS_LABELS,
    Agreement,
    Assignment,
    Committee,
    Dispute,
    Extension,
    Followup,
    MediationSession,
    Mediator,
    Party,
    RiskAssessment,
)
from .schemas import AuditEntryView, DisputeSummary, DisputeView, PartyView

# ---- reference data --------------------------------------------------------------------------


def dispute_types() -> list[dict]:
    return [{"code": t.code, "name": t.name, "name_en": t.name_en} for t in config.get().dispute_types.values()]


def risk_indicators() -> list[dict]:
    return [{"code": k, "label": v.label, "label_en": v.label_en, "weight": v.weight}
            for k, v in config.get().risk.indicators.items()]


def committee(c: Committee) -> dict:
    return {"id": c.id, "code": c.code, "name": c.name, "kind": c.kind, "specialty": c.specialty, "types": c.types,
            "community_code": c.community_code}


def mediator(session: Session, m: Mediator, reader: User) -> dict:
    row = {"id": m.id, "name": m.name, "kind": m.kind, "committee_id": m.committee_id, "expertise": m.expertise,
           "area_code": m.area_code}
    if reader.is_staff:  # the load is the committee's business
        row |= {"load": directory.load_of(session, m.id), "max_load": m.max_load}
    return row


def _text(value: str | None, full: bool) -> str | None:
    """Free text as a reader sees it: a mediator types a party's phone or ID number into the facts or the
    笔录 as readily as a resident into the matter, and it is the same personal data."""
    return value if full else mask_free_text(value)


# ---- disputes and parties --------------------------------------------------------------------

def _summary(d: Dispute) -> dict:
    return dict(id=d.id, dispute_no=d.dispute_no, dispute_type=d.dispute_type,
                type_name=config.get().type_name(d.dispute_type), status=d.status,
                status_label=STATUS_LABELS[d.status][0], source=d.source, committee_id=d.committee_id,
                risk_level=d.risk_level, applied_at=d.applied_at, deadline=d.deadline, closed_at=d.closed_at)


def summary(d: Dispute) -> DisputeSummary:
    return DisputeSummary(**_summary(d))


def party(p: Party, masked: bool) -> PartyView:
    return PartyView(
        id=p.id, role=p.role, user_id=p.user_id, name=p.name,
        phone=mask_phone(p.phone) if masked else p.phone,
        id_number=mask_id_number(p.id_number) if masked else p.id_number,
        address=mask_address(p.address) if masked else p.address,
        representative_name=p.representative_name,
        representative_phone=mask_phone(p.representative_phone) if masked else p.representative_phone,
        verification_method=p.verification_method, verified_at=p.verified_at, consent=p.consent,
        consent_at=p.consent_at, privacy_request=p.privacy_request)


def dispute(session: Session, d: Dispute, cap: str) -> DisputeView:
    """The record as the reader in capacity `cap` sees it: only the mediators see contact details in full."""
    full = cap == "mediator"
    committee_row = session.get(Committee, d.committee_id) if d.committee_id else None
    mediators = []
    for a in session.scalars(select(Assignment).where(Assignment.dispute_id == d.id, Assignment.active.is_(True))):
        m = session.get(Mediator, a.mediator_id)
        mediators.append({"id": m.id, "name": m.name, "kind": m.kind, "by_choice": a.by_choice})
    return DisputeView(
        **_summary(d), case_id=d.case_id, matter=_text(d.matter, full), claims=_text(d.claims, full),
        amount=d.amount,
        people_involved=d.people_involved, privacy=d.privacy,
        committee_name=committee_row.name if committee_row else None,
        mediators=mediators, parties=[party(p, not full) for p in disputes.parties(session, d.id)],
        routes=d.routes or [], routes_notice=disputes.routes_notice(d), close_reason=_text(d.close_reason, full),
        extensions=[extension(session, e, full) for e in extensions.of_dispute(session, d.id)], viewer_capacity=cap)


def objection(session: Session, d: Dispute, replaced: bool) -> dict:
    return {"recorded": True, "replaced": replaced, "mediator_ids": disputes.active_mediator_ids(session, d.id)}


# ---- the clock -------------------------------------------------------------------------------

def extension(session: Session, e: Extension, full: bool) -> dict:
    return {"id": e.id, "days": e.days, "reason": _text(e.reason, full), "status": e.status,
            "consented_party_ids": extensions.consented_party_ids(session, e.id)}


def extension_requested(e: Extension, d: Dispute) -> dict:
    return {"id": e.id, "status": e.status, "days": e.days, "deadline": d.deadline}


def extension_answered(e: Extension, d: Dispute) -> dict:
    return {"id": e.id, "status": e.status, "deadline": d.deadline}


# ---- sessions, risk, agreement, follow-ups ---------------------------------------------------

def meeting(session: Session, m: MediationSession, cap: str) -> dict:
    return {"id": m.id, "kind": m.kind, "starts_at": m.starts_at, "place": m.place, "online_link": m.online_link,
            "privacy": m.privacy, "status": m.status, "held_at": m.held_at,
            "record": _text(m.record, cap == "mediator"),
            "participants": [{"id": p.id, "kind": p.kind, "name": p.name, "role_code": p.role_code,
                              "user_id": p.user_id, "attended": p.attended}
                             for p in meetings.participants(session, m.id)]}


def assessment(a: RiskAssessment) -> dict:
    return {"level": a.level, "score": a.score, "indicators": a.indicators,
            "police_liaison_unit": a.police_liaison_unit, "raised": a.police_liaison_unit is not None}


def past_assessment(a: RiskAssessment) -> dict:
    return {"level": a.level, "score": a.score, "indicators": a.indicators, "at": a.at,
            "assessed_by": a.assessed_by, "police_liaison_unit": a.police_liaison_unit}


def agreement(session: Session, d: Dispute, a: Agreement, cap: str) -> dict:
    """status: draft (the parties sign) → parties_signed (the mediator signs) → mediator_signed (the committee
    seals) → effective (人民调解法 第二十九条); performed_at: every term found performed at follow-up."""
    effective, full = a.status == "effective", cap == "mediator"
    return {"id": a.id, "status": a.status, "version": a.version, "facts": _text(a.facts, full),
            "signed_at": a.signed_at,
            "mediator_signature": {"by": a.mediator_signed_by, "at": a.mediator_signed_at}
            if a.mediator_signed_by else None,
            "seal": {"by": a.sealed_by, "at": a.sealed_at} if a.sealed_at else None,
            "effective_at": a.effective_at, "performed_at": a.performed_at,
            "court_confirmation_deadline": a.court_deadline,
            "court_confirmation_notice": agreements.court_confirmation_notice(a.court_deadline) if effective else None,
            "terms": [{"id": t.id, "position": t.position, "party_id": t.party_id,
                       "obligation": _text(t.obligation, full), "due_at": t.due_at, "amount": t.amount}
                      for t in agreements.terms(session, a.id)],
            "confirmed_party_ids": [c.party_id for c in agreements.confirmations(session, a)],
            "document": f"/mediation/v1/disputes/{d.id}/agreement/document"}


def followup(f: Followup, a: Agreement | None, cap: str) -> dict:
    """A 回访 (performance: the mediators') or the parties' 司法确认 reminder, with what it is about."""
    row = {"id": f.id, "kind": f.kind, "term_id": f.term_id, "due_at": f.due_at, "reminded_at": f.emitted_at,
           "done_at": f.done_at, "result": f.result, "note": _text(f.note, cap == "mediator")}
    if f.kind == "court_confirmation":
        deadline = a.court_deadline if a is not None else None
        row |= {"court_confirmation_deadline": deadline, "legal_basis": agreements.COURT_CONFIRMATION_BASIS,
                "notice": agreements.court_confirmation_notice(deadline)}
    return row


def followup_recorded(f: Followup) -> dict:
    return {"id": f.id, "result": f.result, "done_at": f.done_at}


def audit_entry(row) -> AuditEntryView:
    """An entry of the audit trail (shared/audit.py) as the committee's head reads it."""
    try:
        detail = json.loads(row.detail) if row.detail else {}
    except ValueError:
        detail = {}
    detail = detail if isinstance(detail, dict) else {}
    return AuditEntryView(at=row.at, user_id=row.actor_id, role=row.actor_role, action=row.action,
                          allowed=detail.get("allowed"), capacity=detail.get("capacity"), request_id=row.request_id)
