"""The agreement (调解协议书): drafted by the mediator, signed by every party and by the mediator, sealed by the
committee — and only then in force (人民调解法 第二十九条: 调解协议书自各方当事人签名、盖章或者按指印，人民调解员
签名并加盖人民调解委员会印章之日起生效).

- Each party signs by confirming the text (online from her own account, or on paper before the mediator, who
  records it: `confirm`); a rewrite of the text, or a change of a party's details, asks for every signature
  again.
- Once every party signed, a mediator of the dispute signs (`sign_as_mediator`).
- Then the committee's seal is recorded, with who and when (`seal`): the committee's head, or a mediator of the
  committee. The agreement takes effect: `mediation.agreement.signed` and `mediation.case.succeeded`, the 30-day
  window for the parties' joint application for 司法确认 (第三十三条), a performance follow-up (回访) for every
  term after its due date, and the parties' reminder of the 司法确认 window before it closes.
- Performance (履行) is a later fact, found at follow-up (the committee supervises performance, 第三十一条):
  a term found not (fully) performed is followed up again; when every term is found performed,
  `mediation.agreement.performed`.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.config import local_zone
from shared.db import utcnow
from shared.errors import ApiError
from shared.events import mediation as ev
from shared.uow import Emit

from . import config
from .disputes import active_mediator_ids, parties, party_user_ids, publish, require_accepted
from .models import Agreement, Confirmation, Dispute, Followup, Mediator, Party, Term
from .schemas import AgreementIn

COURT_CONFIRMATION_BASIS = "人民调解法第三十三条"


def local_date(value: datetime | None) -> str:
    """2026年3月2日, as people there count days."""
    if value is None:
        return ""
    local = value.astimezone(local_zone())
    return f"{local.year}年{local.month}月{local.day}日"


def court_confirmation_notice(deadline: datetime | None) -> str:
    """What the 司法确认 reminder tells the parties (人民调解法 第三十三条; where: 民事诉讼法, 确认调解协议案件)."""
    until = f"（{local_date(deadline)}前）" if deadline else ""
    return ("根据《中华人民共和国人民调解法》第三十三条，双方当事人认为有必要的，可以自调解协议生效之日起三十日内"
            f"{until}共同向人民法院申请司法确认（一般向当事人住所地、标的物所在地或调解委员会所在地的基层人民法院"
            "提出）。人民法院依法确认调解协议有效后，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请"
            "强制执行。司法确认不是协议生效的条件：协议自签名盖章之日起已经生效。")


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


def _require_changeable(agreement: Agreement) -> None:
    if agreement.status == "effective":
        raise ApiError(409, "agreement.signed")


def _new_text(agreement: Agreement) -> None:
    """A new text: every signature given to the old one is void (the parties' are kept per version)."""
    agreement.version += 1
    agreement.status, agreement.signed_at = "draft", None
    agreement.mediator_signed_by = agreement.mediator_signed_at = None


def draft(session: Session, dispute: Dispute, body: AgreementIn, by: str) -> Agreement:
    """Writes or rewrites the draft; a rewrite asks every party (and the mediator) to sign again."""
    require_accepted(dispute)
    if not body.terms:
        raise ApiError(422, "agreement.no_terms", field="terms")
    party_ids = {p.id for p in parties(session, dispute.id)}
    for i, t in enumerate(body.terms):
        if t.party_id not in party_ids:
            raise ApiError(422, "agreement.unknown_party", field=f"terms.{i}.party_id")
    agreement = of(session, dispute.id)
    if agreement is None:
        agreement = Agreement(dispute_id=dispute.id, facts=body.facts, drafted_by=by, version=1, status="draft")
        session.add(agreement)
        session.flush()
    else:
        _require_changeable(agreement)
        agreement.facts, agreement.drafted_by, agreement.drafted_at = body.facts, by, utcnow()
        _new_text(agreement)
        session.execute(delete(Term).where(Term.agreement_id == agreement.id))
    for i, t in enumerate(body.terms):
        session.add(Term(agreement_id=agreement.id, position=i + 1, party_id=t.party_id, obligation=t.obligation,
                         due_at=t.due_at, amount=t.amount))
    session.flush()
    return agreement


def party_details_changed(session: Session, dispute: Dispute) -> None:
    """The document names the parties: a change of their details after someone signed is a new text, which
    everyone signs again (an agreement in force cannot change at all)."""
    agreement = of(session, dispute.id)
    if agreement is None:
        return
    _require_changeable(agreement)
    if confirmations(session, agreement) or agreement.mediator_signed_by:
        _new_text(agreement)


def confirm(session: Session, dispute: Dispute, agreement: Agreement, party: Party, method: str, by: str) -> bool:
    """Records one party's signature (her confirmation of the text). True when every party has signed: the
    mediator signs next. The agreement is not in force yet."""
    require_accepted(dispute)
    _require_changeable(agreement)
    done = {c.party_id for c in confirmations(session, agreement)}
    if party.id in done:
        raise ApiError(409, "agreement.already_confirmed")
    session.add(Confirmation(agreement_id=agreement.id, version=agreement.version, party_id=party.id, method=method,
                             recorded_by=by))
    session.flush()
    done.add(party.id)
    if not all(p.id in done for p in parties(session, dispute.id)):
        return False
    agreement.status = "parties_signed"
    return True


def sign_as_mediator(session: Session, dispute: Dispute, agreement: Agreement, capacity: str, by: str) -> None:
    """人民调解员签名: a mediator of the dispute signs the text every party signed."""
    require_accepted(dispute)
    _require_changeable(agreement)
    if capacity != "mediator":
        raise ApiError(403, "agreement.not_the_mediator")
    if agreement.status == "draft":
        raise ApiError(409, "agreement.parties_pending")
    if agreement.status == "mediator_signed":
        raise ApiError(409, "agreement.mediator_signed")
    now = utcnow()
    agreement.status, agreement.signed_at = "mediator_signed", now
    agreement.mediator_signed_by, agreement.mediator_signed_at = by, now


def seal(session: Session, emit: Emit, dispute: Dispute, agreement: Agreement, capacity: str, by: str) -> None:
    """加盖人民调解委员会印章, recorded by the committee's head or a mediator of the committee (who, when): the
    agreement every party and the mediator signed takes effect."""
    require_accepted(dispute)
    _require_changeable(agreement)
    if capacity == "mediator":  # the committee's seal: one of its own mediators, not one who has since moved
        mediator = session.get(Mediator, by)
        if mediator is None or mediator.committee_id != dispute.committee_id:
            raise ApiError(403, "agreement.not_committee")
    elif capacity != "supervisor":
        raise ApiError(403, "dispute.not_mediator")
    if agreement.status == "draft":
        raise ApiError(409, "agreement.parties_pending")
    if agreement.status == "parties_signed":
        raise ApiError(409, "agreement.mediator_signature_missing")
    _take_effect(session, emit, dispute, agreement, by)


def _take_effect(session: Session, emit: Emit, dispute: Dispute, agreement: Agreement, sealed_by: str) -> None:
    procedure = config.get().procedure
    now = utcnow()
    agreement.status, agreement.sealed_by, agreement.sealed_at = "effective", sealed_by, now
    agreement.effective_at = now
    agreement.court_deadline = now + timedelta(days=procedure.court_confirmation_days)
    users = party_user_ids(session, dispute.id)
    publish(emit, dispute, ev.AgreementSigned, now, agreement_id=agreement.id, party_user_ids=users,
            court_confirmation_deadline=agreement.court_deadline, effective_at=now,
            mediator_ids=[agreement.mediator_signed_by] if agreement.mediator_signed_by else [], sealed_by=sealed_by)
    dispute.status, dispute.closed_at, dispute.close_reason = "succeeded", now, "达成调解协议（已生效）"
    publish(emit, dispute, ev.DisputeSucceeded, now, agreement_id=agreement.id, party_user_ids=users,
            effective_at=now)
    after = timedelta(days=procedure.performance_followup_days_after_due)
    for t in terms(session, agreement.id):  # a term without a due date is due at once
        session.add(Followup(dispute_id=dispute.id, agreement_id=agreement.id, kind="performance", term_id=t.id,
                             due_at=(t.due_at or now) + after))
    remind_at = agreement.court_deadline - timedelta(days=procedure.court_reminder_days_before)
    session.add(Followup(dispute_id=dispute.id, agreement_id=agreement.id, kind="court_confirmation",
                         due_at=max(remind_at, now)))
    session.flush()


def followups(session: Session, dispute_id: str) -> list[Followup]:
    return list(session.scalars(select(Followup).where(Followup.dispute_id == dispute_id)
                                .order_by(Followup.due_at, Followup.id)))


def record_followup(session: Session, emit: Emit, dispute: Dispute, followup_id: int, result: str, note: str | None,
                    by: str) -> Followup:
    """The result of a 回访 (performed, partly, not performed), recorded once. A term found not (fully)
    performed is followed up again (督促履行); the agreement is performed when every term was found so."""
    followup = session.get(Followup, followup_id)
    if followup is None or followup.dispute_id != dispute.id:
        raise ApiError(404, "followup.not_found", field="followup_id")
    # The 司法确认 reminder tells the parties what they may do (第三十三条: apply, jointly, to a court); it is not
    # a 回访 and has no performance to find. "performed" on it would read as if the court had confirmed.
    if followup.kind != "performance":
        raise ApiError(409, "followup.not_performance")
    if followup.done_at is not None:
        raise ApiError(409, "followup.done")
    now = utcnow()
    followup.result, followup.note, followup.recorded_by, followup.done_at = result, note, by, now
    if result != "performed":
        days = config.get().procedure.performance_recheck_days
        session.add(Followup(dispute_id=dispute.id, agreement_id=followup.agreement_id, kind="performance",
                             term_id=followup.term_id, due_at=now + timedelta(days=days)))
    session.flush()
    _performed(session, emit, dispute, session.get(Agreement, followup.agreement_id), now)
    return followup


def _performed(session: Session, emit: Emit, dispute: Dispute, agreement: Agreement, now: datetime) -> None:
    """Every term's latest follow-up found it performed: the agreement is performed (once)."""
    if agreement is None or agreement.performed_at is not None:
        return
    latest: dict[int | None, Followup] = {}
    for f in session.scalars(select(Followup).where(Followup.agreement_id == agreement.id,
                                                    Followup.kind == "performance").order_by(Followup.id)):
        latest[f.term_id] = f
    found = [latest.get(t.id) for t in terms(session, agreement.id)]
    if not found or any(f is None or f.result != "performed" for f in found):
        return
    agreement.performed_at = now
    publish(emit, dispute, ev.AgreementPerformed, now, agreement_id=agreement.id,
            followup_ids=[f.id for f in found], party_user_ids=party_user_ids(session, dispute.id),
            mediator_ids=active_mediator_ids(session, dispute.id))
