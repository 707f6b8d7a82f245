"""Mediation's REST API under /mediation/v1: the record a community mediation committee keeps."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.auth import CurrentUser, StaffUser, User
from shared.errors import ApiError
from shared.runtime import ServiceRuntime
from shared.web import correlation_id

from . import agreement as agreements
from . import config, disputes, document, meetings, risk, stats
from . import errors as _errors  # noqa: F401  (registers the error codes)
from .access import audit, audited_uow, managing, mask_address, mask_id_number, mask_phone, readable
from .models import (
    STATUS_LABELS,
    Assignment,
    Committee,
    Dispute,
    Extension,
    ExtensionConsent,
    Followup,
    MediationSession,
    Mediator,
    Party,
    RiskAssessment,
)
from .schemas import (
    AgreementIn,
    AssignIn,
    ConfirmIn,
    ConsentIn,
    DisputeCreate,
    DisputeSummary,
    DisputeView,
    ExtensionConsentIn,
    ExtensionIn,
    FollowupIn,
    ObjectionIn,
    PartyIn,
    PartyView,
    RiskIn,
    SessionCreate,
    SessionRecordIn,
    TerminateIn,
)

STATS_ROLES = ("mediator", "supervisor", "admin")


def _summary(d: Dispute) -> dict:
    return dict(id=d.id, dispute_no=d.dispute_no, dispute_type=d.dispute_type,
                type_name=config.type_name(d.dispute_type), status=d.status,
                status_label=STATUS_LABELS[d.status][0], source=d.source, committee_id=d.committee_id,
                risk_level=d.risk_level, applied_at=d.applied_at, deadline=d.deadline, closed_at=d.closed_at)


def _party_view(p: Party, masked: bool) -> PartyView:
    return PartyView(
        id=p.id, role=p.role, user_id=p.user_id, name=p.name,
        phone=mask_phone(p.phone) if masked else p.phone,
        id_number=mask_id_number(p.id_number) if masked else p.id_number,
        address=mask_address(p.address) if masked else p.address,
        representative_name=p.representative_name,
        representative_phone=mask_phone(p.representative_phone) if masked else p.representative_phone,
        consent=p.consent, consent_at=p.consent_at, privacy_request=p.privacy_request)


def _view(session: Session, d: Dispute, cap: str) -> DisputeView:
    committee = session.get(Committee, d.committee_id) if d.committee_id else None
    mediators = []
    for a in session.scalars(select(Assignment).where(Assignment.dispute_id == d.id, Assignment.active.is_(True))):
        m = session.get(Mediator, a.mediator_id)
        mediators.append({"id": m.id, "name": m.name, "kind": m.kind, "by_choice": a.by_choice})
    extensions = [{"id": e.id, "days": e.days, "reason": e.reason, "status": e.status,
                   "consented_party_ids": list(session.scalars(select(ExtensionConsent.party_id).where(
                       ExtensionConsent.extension_id == e.id, ExtensionConsent.consent.is_(True))))}
                  for e in session.scalars(select(Extension).where(Extension.dispute_id == d.id)
                                           .order_by(Extension.requested_at))]
    return DisputeView(
        **_summary(d), case_id=d.case_id, matter=d.matter, claims=d.claims, amount=d.amount,
        people_involved=d.people_involved, privacy=d.privacy, committee_name=committee.name if committee else None,
        mediators=mediators, parties=[_party_view(p, cap != "mediator") for p in disputes.parties(session, d.id)],
        routes=d.routes or [], close_reason=d.close_reason, extensions=extensions, viewer_capacity=cap)


def _acting_party(session: Session, dispute: Dispute, user: User, cap: str, party_id: str | None) -> tuple[Party, str]:
    """The party an answer belongs to: the user's own, or — recorded by a mediator for a party without
    an account or in person — the one named. Returns the party and how it was recorded."""
    if cap in ("mediator", "supervisor") and party_id:
        party = session.get(Party, party_id)
        if party is None or party.dispute_id != dispute.id:
            raise ApiError(404, "party.not_found", field="party_id")
        return party, "in_person"
    own = [p for p in disputes.parties(session, dispute.id) if p.user_id == user.id]
    if not own:
        raise ApiError(403, "dispute.not_party")
    if party_id and party_id not in {p.id for p in own}:
        raise ApiError(403, "dispute.not_party", field="party_id")
    return (next(p for p in own if p.id == party_id) if party_id else own[0]), "online"


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["人民调解 mediation"])
    Correlation = Annotated[str, Depends(correlation_id)]

    def uow():
        # The audit rows of a request that fails (a refused read, or a read that passed and then failed)
        # are written again after the rollback.
        return audited_uow(rt.sessions)

    def out_for(session: Session, correlation: str):
        return lambda payload: rt.outbox.emit(session, payload, correlation_id=correlation)

    # ---- reference data ----------------------------------------------------------------------

    @api.get("/dispute-types", summary="纠纷类型 dispute types")
    def dispute_types(user: CurrentUser) -> list[dict]:
        return [{"code": t["code"], "name": t["name"], "name_en": t["name_en"]}
                for t in config.dispute_types().values()]

    @api.get("/risk-indicators", summary="风险评估指标 risk indicators")
    def risk_indicators(user: StaffUser) -> list[dict]:
        return [{"code": k, "label": v["label"], "label_en": v["label_en"], "weight": v["weight"]}
                for k, v in config.risk_rules()["indicators"].items()]

    @api.get("/committees", summary="人民调解委员会 mediation committees")
    def committees(user: CurrentUser) -> list[dict]:
        with rt.uow() as session:
            return [{"id": c.id, "code": c.code, "name": c.name, "kind": c.kind, "specialty": c.specialty,
                     "types": c.types, "community_code": c.community_code}
                    for c in session.scalars(select(Committee).order_by(Committee.code))]

    @api.get("/mediators", summary="调解员（当事人可选择或申请回避）mediators")
    def mediators(user: CurrentUser, committee_id: str | None = None) -> list[dict]:
        with rt.uow() as session:
            query = select(Mediator).where(Mediator.active.is_(True)).order_by(Mediator.id)
            if committee_id:
                query = query.where(Mediator.committee_id == committee_id)
            rows = []
            for m in session.scalars(query):
                row = {"id": m.id, "name": m.name, "kind": m.kind, "committee_id": m.committee_id,
                       "expertise": m.expertise, "area_code": m.area_code}
                if user.is_staff:  # the load is the committee's business
                    row |= {"load": disputes.load_of(session, m.id), "max_load": m.max_load}
                rows.append(row)
            return rows

    # ---- disputes ----------------------------------------------------------------------------

    @api.post("/disputes", status_code=201, response_model=DisputeView,
              summary="申请调解或主动调解 apply for mediation (or open one as a committee)")
    def create_dispute(body: DisputeCreate, user: CurrentUser, correlation: Correlation) -> DisputeView:
        party_list = list(body.parties)
        with rt.uow() as session:
            creator = None
            if body.source == "committee":
                creator = session.get(Mediator, user.id)
                if creator is None:
                    raise ApiError(403, "dispute.forbidden_source", field="source")
            elif not user.is_staff:
                # A resident applies for themself: their entry is the applicant, with their account.
                mine = [p for p in party_list if p.role == "applicant"]
                if len(mine) != 1:
                    raise ApiError(422, "validation.missing", field="parties.applicant")
                party_list = [p.model_copy(update={"user_id": user.id}) if p.role == "applicant" else p
                              for p in party_list]
            if not any(p.role == "applicant" for p in party_list):
                raise ApiError(422, "validation.missing", field="parties.applicant")
            dispute = disputes.create(
                session, out_for(session, correlation), source=body.source, dispute_type=body.dispute_type,
                matter=body.matter, party_list=party_list, created_by=user.id, claims=body.claims,
                amount=body.amount, people_involved=body.people_involved, lat=body.lat, lon=body.lon,
                committee_id=body.committee_id, requested_mediator_id=body.requested_mediator_id,
                privacy=body.privacy, creator_mediator=creator)
            cap = "mediator" if creator else "party"
            audit(session, user, dispute.id, "create", True, cap)
            return _view(session, dispute, cap)

    @api.get("/disputes", response_model=list[DisputeSummary],
             summary="我的调解案件（当事人、调解员、委员会主任）my disputes")
    def list_disputes(user: CurrentUser, status: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      offset: Annotated[int, Query(ge=0)] = 0) -> list[DisputeSummary]:
        with uow() as session:
            supervised = select(Committee.id).where(Committee.supervisor_id == user.id)
            assigned = select(Assignment.dispute_id).where(Assignment.mediator_id == user.id,
                                                           Assignment.active.is_(True))
            party_of = select(Party.dispute_id).where(Party.user_id == user.id)
            query = select(Dispute).where(or_(Dispute.id.in_(assigned), Dispute.id.in_(party_of),
                                              Dispute.committee_id.in_(supervised)))
            if status:
                query = query.where(Dispute.status == status)
            rows = list(session.scalars(query.order_by(Dispute.applied_at.desc()).limit(limit).offset(offset)))
            audit(session, user, None, f"list:{len(rows)}", True)
            return [DisputeSummary(**_summary(d)) for d in rows]

    @api.get("/disputes/{dispute_id}", response_model=DisputeView,
             summary="调解案件详情（仅当事人、本案调解员、委员会主任）a dispute's record")
    def get_dispute(dispute_id: str, user: CurrentUser) -> DisputeView:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "read.dispute")
            return _view(session, dispute, cap)

    @api.post("/disputes/{dispute_id}/parties", status_code=201, response_model=PartyView,
              summary="登记当事人（被申请人等）add a party")
    def add_party(dispute_id: str, body: PartyIn, user: CurrentUser) -> PartyView:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.party")
            return _party_view(disputes.add_party(session, dispute, body), masked=False)

    @api.patch("/disputes/{dispute_id}/parties/{party_id}", response_model=PartyView,
               summary="补正当事人信息 correct a party's details")
    def update_party(dispute_id: str, party_id: str, body: PartyIn, user: CurrentUser) -> PartyView:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.party")
            party = session.get(Party, party_id)
            if party is None or party.dispute_id != dispute.id:
                raise ApiError(404, "party.not_found", field="party_id")
            disputes.require_open(dispute)  # a closed record (and its signed agreement) stays as it was
            agreements.party_details_changed(session, dispute)
            for field in ("name", "phone", "id_number", "address", "representative_name", "representative_phone"):
                setattr(party, field, getattr(body, field))
            if body.user_id:
                party.user_id = body.user_id
            if not party.user_id and not party.phone:
                raise ApiError(422, "party.contact_missing", field="phone")
            return _party_view(party, masked=False)

    @api.post("/disputes/{dispute_id}/consent", response_model=DisputeView,
              summary="当事人同意或拒绝调解 a party consents or refuses")
    def consent(dispute_id: str, body: ConsentIn, user: CurrentUser, correlation: Correlation,
                party_id: str | None = None) -> DisputeView:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "write.consent")
            party, _how = _acting_party(session, dispute, user, cap, party_id)
            disputes.record_consent(session, out_for(session, correlation), dispute, party, body.consent, user.id,
                                    body.reason, body.privacy_request)
            return _view(session, dispute, cap)

    @api.post("/disputes/{dispute_id}/accept", response_model=DisputeView,
              summary="受理（各方当事人均已同意）accept for mediation")
    def accept(dispute_id: str, user: CurrentUser, correlation: Correlation) -> DisputeView:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.accept")
            disputes.accept(session, out_for(session, correlation), dispute)
            return _view(session, dispute, "supervisor" if user.id != _holder(session, dispute) else "mediator")

    @api.post("/disputes/{dispute_id}/assign", response_model=DisputeView,
              summary="指派调解员（当事人选定或自动）assign a mediator")
    def assign(dispute_id: str, body: AssignIn, user: CurrentUser, correlation: Correlation) -> DisputeView:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.assign")
            disputes.assign(session, out_for(session, correlation), dispute, body.mediator_id)
            return _view(session, dispute, "supervisor" if user.id != _holder(session, dispute) else "mediator")

    @api.post("/disputes/{dispute_id}/objections", summary="申请调解员回避 object to a mediator (回避)")
    def objection(dispute_id: str, body: ObjectionIn, user: CurrentUser, correlation: Correlation) -> dict:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "write.objection")
            party, _how = _acting_party(session, dispute, user, cap, body.party_id)
            replaced = disputes.object_to(session, out_for(session, correlation), dispute, party, body.mediator_id,
                                          body.reason)
            return {"recorded": True, "replaced": replaced,
                    "mediator_ids": disputes.active_mediator_ids(session, dispute.id)}

    @api.post("/disputes/{dispute_id}/withdraw", response_model=DisputeView, summary="申请人撤回 withdraw")
    def withdraw(dispute_id: str, user: CurrentUser, correlation: Correlation) -> DisputeView:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "write.withdraw")
            if not any(p.role == "applicant" and p.user_id == user.id for p in disputes.parties(session, dispute.id)):
                raise ApiError(403, "dispute.not_applicant")
            disputes.withdraw(session, out_for(session, correlation), dispute)
            return _view(session, dispute, cap)

    @api.post("/disputes/{dispute_id}/terminate", response_model=DisputeView,
              summary="终止调解（调解不成），告知其他途径 terminate")
    def terminate(dispute_id: str, body: TerminateIn, user: CurrentUser, correlation: Correlation) -> DisputeView:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.terminate")
            disputes.terminate(session, out_for(session, correlation), dispute, body.reason, body.routes)
            return _view(session, dispute, cap)  # the committee's head sees contact details masked

    # ---- clock -------------------------------------------------------------------------------

    @api.post("/disputes/{dispute_id}/extensions", status_code=201,
              summary="申请延长调解期限（须各方当事人同意）request an extension")
    def request_extension(dispute_id: str, body: ExtensionIn, user: CurrentUser) -> dict:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.extension")
            ext = disputes.request_extension(session, dispute, body.days, body.reason, user.id)
            return {"id": ext.id, "status": ext.status, "days": ext.days, "deadline": dispute.deadline}

    @api.post("/disputes/{dispute_id}/extensions/{extension_id}/consents",
              summary="当事人对延期表示意见 a party's answer to an extension")
    def extension_consent(dispute_id: str, extension_id: str, body: ExtensionConsentIn, user: CurrentUser) -> dict:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "write.extension_consent")
            ext = session.get(Extension, extension_id)
            if ext is None or ext.dispute_id != dispute.id:
                raise ApiError(404, "extension.not_found", field="extension_id")
            party, _how = _acting_party(session, dispute, user, cap, body.party_id)
            disputes.record_extension_consent(session, dispute, ext, party, body.consent, user.id)
            return {"id": ext.id, "status": ext.status, "deadline": dispute.deadline}

    # ---- sessions ----------------------------------------------------------------------------

    def _session_view(session: Session, m: MediationSession, cap: str) -> dict:
        return {"id": m.id, "kind": m.kind, "starts_at": m.starts_at, "place": m.place, "online_link": m.online_link,
                "privacy": m.privacy, "status": m.status, "held_at": m.held_at, "record": m.record,
                "participants": [{"id": p.id, "kind": p.kind, "name": p.name, "role_code": p.role_code,
                                  "user_id": p.user_id, "attended": p.attended}
                                 for p in meetings.participants(session, m.id)]}

    @api.post("/disputes/{dispute_id}/sessions", status_code=201,
              summary="安排调解会议（含“四位一体”联席会议）schedule a session")
    def schedule(dispute_id: str, body: SessionCreate, user: CurrentUser, correlation: Correlation) -> dict:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.session")
            meeting = meetings.schedule(session, out_for(session, correlation), dispute, body, user.id)
            return _session_view(session, meeting, "mediator")

    @api.get("/disputes/{dispute_id}/sessions", summary="调解会议及笔录 sessions and records")
    def list_sessions(dispute_id: str, user: CurrentUser) -> list[dict]:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "read.sessions")
            return [_session_view(session, m, cap) for m in session.scalars(
                select(MediationSession).where(MediationSession.dispute_id == dispute.id)
                .order_by(MediationSession.starts_at))]

    @api.post("/disputes/{dispute_id}/sessions/{session_id}/record",
              summary="记录出席情况和调解笔录 attendance and the record")
    def record_session(dispute_id: str, session_id: str, body: SessionRecordIn, user: CurrentUser,
                       correlation: Correlation) -> dict:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.session_record")
            meeting = session.get(MediationSession, session_id)
            if meeting is None or meeting.dispute_id != dispute.id:
                raise ApiError(404, "session.not_found", field="session_id")
            meetings.record(session, out_for(session, correlation), dispute, meeting, body)
            return _session_view(session, meeting, "mediator")

    # ---- risk --------------------------------------------------------------------------------

    @api.post("/disputes/{dispute_id}/risk", status_code=201, summary="风险评估（民转刑预警）assess the risk")
    def assess(dispute_id: str, body: RiskIn, user: CurrentUser, correlation: Correlation) -> dict:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.risk")
            a = risk.assess(session, out_for(session, correlation), dispute, body.indicators, body.people_involved,
                            body.note, user.id)
            return {"level": a.level, "score": a.score, "indicators": a.indicators,
                    "police_liaison_unit": a.police_liaison_unit, "raised": a.police_liaison_unit is not None}

    @api.get("/disputes/{dispute_id}/risk", summary="风险评估记录 risk assessments")
    def risk_history(dispute_id: str, user: CurrentUser) -> list[dict]:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "read.risk")
            return [{"level": a.level, "score": a.score, "indicators": a.indicators, "at": a.at,
                     "assessed_by": a.assessed_by, "police_liaison_unit": a.police_liaison_unit}
                    for a in session.scalars(select(RiskAssessment).where(RiskAssessment.dispute_id == dispute.id)
                                             .order_by(RiskAssessment.id))]

    # ---- agreement ---------------------------------------------------------------------------

    def _agreement_view(session: Session, dispute: Dispute, a) -> dict:
        return {"id": a.id, "status": a.status, "version": a.version, "facts": a.facts,
                "signed_at": a.signed_at, "court_confirmation_deadline": a.court_deadline,
                "terms": [{"position": t.position, "party_id": t.party_id, "obligation": t.obligation,
                           "due_at": t.due_at, "amount": t.amount} for t in agreements.terms(session, a.id)],
                "confirmed_party_ids": [c.party_id for c in agreements.confirmations(session, a)],
                "document": f"/mediation/v1/disputes/{dispute.id}/agreement/document"}

    def _agreement(session: Session, dispute: Dispute):
        a = agreements.of(session, dispute.id)
        if a is None:
            raise ApiError(404, "agreement.not_found")
        return a

    @api.put("/disputes/{dispute_id}/agreement", summary="起草或修改调解协议 draft the agreement")
    def draft(dispute_id: str, body: AgreementIn, user: CurrentUser) -> dict:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.agreement")
            a = agreements.draft(session, dispute, body, user.id)
            return _agreement_view(session, dispute, a)

    @api.get("/disputes/{dispute_id}/agreement", summary="调解协议 the agreement")
    def get_agreement(dispute_id: str, user: CurrentUser) -> dict:
        with uow() as session:
            dispute, _cap = readable(session, dispute_id, user, "read.agreement")
            return _agreement_view(session, dispute, _agreement(session, dispute))

    @api.post("/disputes/{dispute_id}/agreement/confirmations",
              summary="当事人确认调解协议（全部确认后协议签订）a party confirms the agreement")
    def confirm(dispute_id: str, body: ConfirmIn, user: CurrentUser, correlation: Correlation) -> dict:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "write.confirmation")
            a = _agreement(session, dispute)
            party, how = _acting_party(session, dispute, user, cap, body.party_id)
            agreements.confirm(session, out_for(session, correlation), dispute, a, party, how, user.id)
            return _agreement_view(session, dispute, a)

    @api.get("/disputes/{dispute_id}/agreement/document", response_class=HTMLResponse,
             summary="调解协议书（可打印的 HTML）the printable agreement document")
    def agreement_document(dispute_id: str, user: CurrentUser) -> HTMLResponse:
        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "read.document")
            html = document.render(session, dispute, _agreement(session, dispute), masked=cap != "mediator")
            return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    # ---- follow-up ---------------------------------------------------------------------------

    @api.get("/disputes/{dispute_id}/followups", summary="回访与司法确认提醒 follow-ups")
    def followups(dispute_id: str, user: CurrentUser) -> list[dict]:
        with uow() as session:
            dispute, _cap = readable(session, dispute_id, user, "read.followups")
            return [{"id": f.id, "kind": f.kind, "due_at": f.due_at, "reminded_at": f.emitted_at,
                     "done_at": f.done_at, "result": f.result, "note": f.note}
                    for f in session.scalars(select(Followup).where(Followup.dispute_id == dispute.id)
                                             .order_by(Followup.due_at))]

    @api.post("/disputes/{dispute_id}/followups/{followup_id}", summary="记录回访结果 record a follow-up")
    def record_followup(dispute_id: str, followup_id: int, body: FollowupIn, user: CurrentUser) -> dict:
        with uow() as session:
            dispute, cap = managing(session, dispute_id, user, "write.followup")
            f = session.get(Followup, followup_id)
            if f is None or f.dispute_id != dispute.id:
                raise ApiError(404, "followup.not_found", field="followup_id")
            agreements.record_followup(f, body.result, body.note, user.id)
            return {"id": f.id, "result": f.result, "done_at": f.done_at}

    # ---- statistics and audit ----------------------------------------------------------------

    @api.get("/statistics", summary="统计：受理数、化解率、平均用时，按类型、委员会、调解员 statistics")
    def statistics(user: CurrentUser, date_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
                   date_to: Annotated[AwareDatetime | None, Query(alias="to")] = None) -> dict:
        with uow() as session:
            if user.role not in STATS_ROLES:
                audit(session, user, None, "read.statistics", False)
                raise ApiError(403, "stats.forbidden")
            scope = None
            if user.role == "mediator":  # a mediator sees their own committee's figures
                m = session.get(Mediator, user.id)
                scope = [m.committee_id] if m else []
            audit(session, user, None, "read.statistics", True)
            return stats.compute(session, date_from, date_to, scope)

    @api.get("/disputes/{dispute_id}/audit", summary="查阅记录（仅委员会主任）the audit log of a dispute")
    def audit_log(dispute_id: str, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                  offset: Annotated[int, Query(ge=0)] = 0) -> list[dict]:
        from .models import AuditLog

        with uow() as session:
            dispute, cap = readable(session, dispute_id, user, "read.audit")
            if cap != "supervisor":
                raise ApiError(403, "auth.forbidden")
            return [{"at": r.at, "user_id": r.user_id, "role": r.role, "action": r.action, "allowed": r.allowed,
                     "capacity": r.capacity}
                    for r in session.scalars(select(AuditLog).where(AuditLog.dispute_id == dispute.id)
                                             .order_by(AuditLog.id).limit(limit).offset(offset))]

    return api


def _holder(session: Session, dispute: Dispute) -> str | None:
    ids = disputes.active_mediator_ids(session, dispute.id)
    return ids[0] if ids else None
