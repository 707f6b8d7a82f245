"""The agreement (调解协议书): the mediator's draft, each party's confirmation, the printable document."""

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shared.deps import CurrentUser

from .. import access, document, views
from .. import agreement as agreements
from ..access import Access
from ..schemas import AgreementIn, ConfirmIn
from .deps import AuditedUow, answers, managing, readable

router = APIRouter(tags=["调解协议 agreement"])


@router.put("/disputes/{dispute_id}/agreement", summary="起草或修改调解协议 draft the agreement",
            responses=answers(403, 404, 409))
def draft(body: AgreementIn, seen: Annotated[Access, managing("write.agreement")], user: CurrentUser,
          uow: AuditedUow) -> dict:
    return views.agreement(uow.session, seen.dispute, agreements.draft(uow.session, seen.dispute, body, user.id))


@router.get("/disputes/{dispute_id}/agreement", summary="调解协议 the agreement", responses=answers(404))
def get_agreement(seen: Annotated[Access, readable("read.agreement")], uow: AuditedUow) -> dict:
    return views.agreement(uow.session, seen.dispute, agreements.drafted(uow.session, seen.dispute))


@router.post("/disputes/{dispute_id}/agreement/confirmations",
             summary="当事人确认调解协议（全部确认后协议签订）a party confirms the agreement",
             responses=answers(403, 404, 409))
def confirm(body: ConfirmIn, seen: Annotated[Access, readable("write.confirmation")], user: CurrentUser,
            uow: AuditedUow) -> dict:
    agreement = agreements.drafted(uow.session, seen.dispute)
    party, how = access.acting_party(uow.session, seen, user, body.party_id)
    agreements.confirm(uow.session, uow.emit, seen.dispute, agreement, party, how, user.id)
    return views.agreement(uow.session, seen.dispute, agreement)


@router.get("/disputes/{dispute_id}/agreement/document", response_class=HTMLResponse,
            summary="调解协议书（可打印的 HTML）the printable agreement document", responses=answers(404))
def agreement_document(seen: Annotated[Access, readable("read.document")], uow: AuditedUow) -> HTMLResponse:
    html = document.render(uow.session, seen.dispute, agreements.drafted(uow.session, seen.dispute),
                           masked=seen.capacity != "mediator")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
