"""The agreement (调解协议书): drafted by the mediator, confirmed by every party, then signed.

Signing starts the 30-day window for joint court confirmation (司法确认) and schedules the
follow-ups on performance (回访) at each term's due date; the clock scanner fires them.
"""

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import ApiError
from shared.events import mediation as ev
from shared.uow import Emit

from . import config
from .disputes import parties, party_user_ids, publish, require_accepted
from .models import Agreement, Confirmation, Dispute, Followup, Party, Term
from .schemas import AgreementIn


def of(session: Session, dispute_id: str) -> Agreement | None:
    return session.scalar(select(Agreement).where(Agreement.dispute_id == dispute_id))


def drafted(session: Session, dispute: Dispute) -> Agreement:
    """The dispute's agreement; 404 before the mediator drafted one."""
    agreement = of(session, dispute.id)
    if agreement is None:
        raise ApiError(404, "agreement.not_found")
    return agreement


def terms(session: Session, agreement_id: str) -> list[Term]:
    return list(session.scalars(select(Term).where(Term.agreement_id == agreement_id).order_by(Term.position)))


def confirmations(session: Session, agreement: Agreement) -> list[Confirmation]:
    return list(session.scalars(select(Confirmation).where(Confirmation.agreement_id == agreement.id,
                                                           Confirmation.version == agreement.version)
                                .order_by(Confirmation.id)))


def draft(session: Session, dispute: Dispute, body: AgreementIn, by: str) -> Agreement:
    """Writes or rewrites the draft; a rewrite asks every party to confirm again."""
    require_accepted(dispute)
    if not body.terms:
        raise ApiError(422, "agreement.no_terms", field="terms")
    party_ids = {p.id for p in parties(session, dispute.id)}
    for i, t in enumerate(body.terms):
        if t.party_id not in party_ids:
            raise ApiError(422, "agreement.unknown_party", field=f"terms.{i}.party_id")
    agreement = of(session, dispute.id)
    if agreement is None:
        agreement = Agreement(dispute_id=dispute.id, facts=body.facts, drafted_by=by, version=1)
        session.add(agreement)
        session.flush()
    else:
        if agreement.status == "signed":
            raise ApiError(409, "agreement.signed")
        agreement.facts, agreement.drafted_by, agreement.drafted_at = body.facts, by, utcnow()
        agreement.version += 1
        session.execute(delete(Term).where(Term.agreement_id == agreement.id))
    for i, t in enumerate(body.terms):
        session.add(Term(agreement_id=agreement.id, position=i + 1, party_id=t.party_id, obligation=t.obligation,
                         due_at=t.due_at, amount=t.amount))
    session.flush()
    return agreement


def party_details_changed(session: Session, dispute: Dispute) -> None:
    """The document names the parties: a change of their details after some confirmed is a new text, which
    every party confirms again (a signed agreement cannot change at all)."""
    agreement = of(session, dispute.id)
    if agreement is None:
        return
    if agreement.status == "signed":
        raise ApiError(409, "agreement.signed")
    if confirmations(session, agreement):
        agreement.version += 1


def confirm(session: Session, emit: Emit, dispute: Dispute, agreement: Agreement, party: Party, method: str,
            by: str) -> bool:
    """Records one party's confirmation; the last one signs the agreement. True when signed."""
    require_accepted(dispute)
    if agreement.status == "signed":
        raise ApiError(409, "agreement.signed")
    done = {c.party_id for c in confirmations(session, agreement)}
    if party.id in done:
        raise ApiError(409, "agreement.already_confirmed")
    session.add(Confirmation(agreement_id=agreement.id, version=agreement.version, party_id=party.id, method=method,
                             recorded_by=by))
    session.flush()
    done.add(party.id)
    if not all(p.id in done for p in parties(session, dispute.id)):
        return False
    _sign(session, emit, dispute, agreement)
    return True


def _sign(session: Session, emit: Emit, dispute: Dispute, agreement: Agreement) -> None:
    procedure = config.get().procedure
    now = utcnow()
    agreement.status, agreement.signed_at = "signed", now
    agreement.court_deadline = now + timedelta(days=procedure.court_confirmation_days)
    users = party_user_ids(session, dispute.id)
    publish(emit, dispute, ev.AgreementSigned, now, agreement_id=agreement.id, party_user_ids=users,
            court_confirmation_deadline=agreement.court_deadline)
    dispute.status, dispute.closed_at, dispute.close_reason = "succeeded", now, "达成调解协议"
    publish(emit, dispute, ev.DisputeSucceeded, now, agreement_id=agreement.id, party_user_ids=users)
    for t in terms(session, agreement.id):
        if t.due_at is not None:
            session.add(Followup(dispute_id=dispute.id, agreement_id=agreement.id, kind="performance", term_id=t.id,
                                 due_at=t.due_at + timedelta(days=procedure.performance_followup_days_after_due)))
    remind_at = agreement.court_deadline - timedelta(days=procedure.court_reminder_days_before)
    session.add(Followup(dispute_id=dispute.id, agreement_id=agreement.id, kind="court_confirmation",
                         due_at=max(remind_at, now)))
    session.flush()


def followups(session: Session, dispute_id: str) -> list[Followup]:
    return list(session.scalars(select(Followup).where(Followup.dispute_id == dispute_id).order_by(Followup.due_at)))


def record_followup(session: Session, dispute: Dispute, followup_id: int, result: str, note: str | None,
                    by: str) -> Followup:
    """The result of a 回访 (performed, partly, not performed), recorded once."""
    followup = session.get(Followup, followup_id)
    if followup is None or followup.dispute_id != dispute.id:
        raise ApiError(404, "followup.not_found", field="followup_id")
    if followup.done_at is not None:
        raise ApiError(409, "followup.done")
    followup.result, followup.note, followup.recorded_by, followup.done_at = result, note, by, utcnow()
    return followup
