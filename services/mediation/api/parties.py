"""The parties: registering and correcting them, and each party's consent or refusal."""

from typing import Annotated

from fastapi import APIRouter

from shared.deps import CurrentUser

from .. import access, disputes, parties, views
from ..access import Access
from ..schemas import ConsentIn, DisputeView, PartyIn, PartyView
from .deps import AuditedUow, managing, readable

router = APIRouter(tags=["当事人 parties"])


@router.post("/disputes/{dispute_id}/parties", status_code=201, response_model=PartyView,
             summary="登记当事人（被申请人等）add a party")
def add_party(body: PartyIn, seen: Annotated[Access, managing("write.party")], uow: AuditedUow) -> PartyView:
    return views.party(parties.add(uow.session, seen.dispute, body), masked=False)


@router.patch("/disputes/{dispute_id}/parties/{party_id}", response_model=PartyView,
              summary="补正当事人信息 correct a party's details")
def update_party(party_id: str, body: PartyIn, seen: Annotated[Access, managing("write.party")],
                 uow: AuditedUow) -> PartyView:
    return views.party(parties.correct(uow.session, seen.dispute, party_id, body), masked=False)


@router.post("/disputes/{dispute_id}/consent", response_model=DisputeView,
             summary="当事人同意或拒绝调解 a party consents or refuses")
def consent(body: ConsentIn, seen: Annotated[Access, readable("write.consent")], user: CurrentUser,
            uow: AuditedUow, party_id: str | None = None) -> DisputeView:
    party, _how = access.acting_party(uow.session, seen, user, party_id)
    disputes.record_consent(uow.session, uow.emit, seen.dispute, party, body.consent, user.id, body.reason,
                            body.privacy_request)
    return views.dispute(uow.session, seen.dispute, seen.capacity)
