"""Extending the one-month clock, only with every party's consent."""

from typing import Annotated

from fastapi import APIRouter

from shared.deps import CurrentUser

from .. import access, extensions, views
from ..access import Access
from ..schemas import ExtensionConsentIn, ExtensionIn
from .deps import AuditedUow, answers, managing, readable

router = APIRouter(tags=["调解期限 extensions"])


@router.post("/disputes/{dispute_id}/extensions", status_code=201,
             summary="申请延长调解期限（须各方当事人同意）request an extension", responses=answers(403, 404, 409))
def request_extension(body: ExtensionIn, seen: Annotated[Access, managing("write.extension")], user: CurrentUser,
                      uow: AuditedUow) -> dict:
    ext = extensions.request(uow.session, seen.dispute, body.days, body.reason, user.id)
    return views.extension_requested(ext, seen.dispute)


@router.post("/disputes/{dispute_id}/extensions/{extension_id}/consents",
             summary="当事人对延期表示意见 a party's answer to an extension", responses=answers(403, 404, 409))
def extension_consent(extension_id: str, body: ExtensionConsentIn,
                      seen: Annotated[Access, readable("write.extension_consent")], user: CurrentUser,
                      uow: AuditedUow) -> dict:
    ext = extensions.of(uow.session, seen.dispute, extension_id)
    party, _how = access.acting_party(uow.session, seen, user, body.party_id)
    extensions.record_consent(uow.session, seen.dispute, ext, party, body.consent, user.id)
    return views.extension_answered(ext, seen.dispute)
