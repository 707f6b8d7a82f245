"""The agreement (调解协议书): the mediator's draft, each party's signature (confirmation), the mediator's
signature, the committee's seal (then it is in force: 人民调解法 第二十九条), the printable document."""

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
    return views.agreement(uow.session, seen.dispute, agreements.draft(uow.session, seen.dispute, body, user.id),
                           seen.capacity)


@router.get("/disputes/{dispute_id}/agreement", summary="调解协议 the agreement", responses=answers(404))
def get_agreement(seen: Annotated[Access, readable("read.agreement")], uow: AuditedUow) -> dict:
    return views.agreement(uow.session, seen.dispute, agreements.drafted(uow.session, seen.dispute), seen.capacity)


@router.post("/disputes/{dispute_id}/agreement/confirmations",
             summary="当事人签名确认调解协议（各方签名后由调解员签名、委员会盖章）a party signs the agreement",
             responses=answers(403, 404, 409))
def confirm(body: ConfirmIn, seen: Annotated[Access, readable("write.confirmation")], user: CurrentUser,
            uow: AuditedUow) -> dict:
    agreement = agreements.drafted(uow.session, seen.dispute)
    party, how = access.acting_party(uow.session, seen, user, body.party_id)
    agreements.confirm(uow.session, seen.dispute, agreement, party, how, user.id)
    return views.agreement(uow.session, seen.dispute, agreement, seen.capacity)


@router.post("/disputes/{dispute_id}/agreement/mediator-signature",
             summary="人民调解员签名（各方当事人签名后）the mediator signs the agreement",
             description="本案调解员在各方当事人均已签名确认的调解协议上签名；委员会主任未被指派为本案调解员的，"
                         "不能以调解员身份签名（403 agreement.not_the_mediator）。",
             responses=answers(403, 404, 409))
def sign_as_mediator(seen: Annotated[Access, managing("write.agreement_signature")], user: CurrentUser,
                     uow: AuditedUow) -> dict:
    agreement = agreements.drafted(uow.session, seen.dispute)
    agreements.sign_as_mediator(uow.session, seen.dispute, agreement, seen.capacity, user.id)
    return views.agreement(uow.session, seen.dispute, agreement, seen.capacity)


@router.post("/disputes/{dispute_id}/agreement/seal",
             summary="加盖人民调解委员会印章（协议自此生效）record the committee's seal: the agreement takes effect",
             description="委员会主任或本委员会的调解员登记加盖人民调解委员会印章（记录登记人和时间）。各方当事人签名、"
                         "人民调解员签名并加盖委员会印章后，调解协议生效（人民调解法第二十九条），自生效之日起三十日内"
                         "双方当事人可以共同申请司法确认（第三十三条）。",
             responses=answers(403, 404, 409))
def seal(seen: Annotated[Access, managing("write.agreement_seal")], user: CurrentUser, uow: AuditedUow) -> dict:
    agreement = agreements.drafted(uow.session, seen.dispute)
    agreements.seal(uow.session, uow.emit, seen.dispute, agreement, seen.capacity, user.id)
    return views.agreement(uow.session, seen.dispute, agreement, seen.capacity)


@router.get("/disputes/{dispute_id}/agreement/document", response_class=HTMLResponse,
            summary="调解协议书（可打印的 HTML）the printable agreement document", responses=answers(404))
def agreement_document(seen: Annotated[Access, readable("read.document")], uow: AuditedUow) -> HTMLResponse:
    html = document.render(uow.session, seen.dispute, agreements.drafted(uow.session, seen.dispute),
                           masked=seen.capacity != "mediator")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
