"""The parties: registering and correcting them, verifying them in person, and each party's consent or refusal."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import CurrentUser

from .. import access, disputes, parties, views
from ..access import Access
from ..schemas import ConsentIn, DisputeView, PartyIn, PartyView, VerificationIn
from .deps import AuditedUow, PhoneIndexDep, answers, managing, readable

router = APIRouter(tags=["当事人 parties"])


@router.post("/disputes/{dispute_id}/parties", status_code=201, response_model=PartyView,
             summary="登记当事人（被申请人等）add a party", responses=answers(403, 404, 409))
def add_party(body: PartyIn, seen: Annotated[Access, managing("write.party")], uow: AuditedUow,
              index: PhoneIndexDep) -> PartyView:
    return views.party(parties.add(uow.session, seen.dispute, body, index), masked=False)


@router.patch("/disputes/{dispute_id}/parties/{party_id}", response_model=PartyView,
              summary="补正当事人信息 correct a party's details", responses=answers(403, 404, 409))
def update_party(party_id: str, body: PartyIn, seen: Annotated[Access, managing("write.party")],
                 uow: AuditedUow, index: PhoneIndexDep) -> PartyView:
    return views.party(parties.correct(uow.session, seen.dispute, party_id, body, index), masked=False)


@router.post("/disputes/{dispute_id}/parties/{party_id}/verification", response_model=PartyView,
             summary="调解员当面核实当事人身份（可关联其本人账号）verify a party in person",
             responses=answers(403, 404, 409))
def verify_party(party_id: str, body: VerificationIn, seen: Annotated[Access, managing("write.verification")],
                 user: CurrentUser, uow: AuditedUow) -> PartyView:
    party = parties.verify_in_person(uow.session, seen.dispute, party_id, body, user.id)
    uow.audit("party.verified", subject_kind="dispute", subject_id=seen.dispute.id,
              detail={"party_id": party.id, "method": body.method, "linked": bool(body.user_id)})
    return views.party(party, masked=seen.capacity != "mediator")


@router.post("/disputes/{dispute_id}/consent", response_model=DisputeView, responses=answers(403, 404, 409),
             summary="当事人同意或拒绝调解（本人账号，或调解员当面核实身份后代为登记）a party consents or refuses")
def consent(body: ConsentIn, seen: Annotated[Access, readable("write.consent")], user: CurrentUser,
            uow: AuditedUow,
            party_id: Annotated[str | None, Query(max_length=36, description="调解员当面代为登记时填写当事人 id")]
            = None) -> DisputeView:
    party, _how = access.acting_party(uow.session, seen, user, party_id)
    disputes.record_consent(uow.session, uow.emit, seen.dispute, party, body.consent, user.id, body.reason,
                            body.privacy_request)
    return views.dispute(uow.session, seen.dispute, seen.capacity)
