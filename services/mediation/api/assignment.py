"""Who mediates: assigning a mediator (the parties' choice, or by type, area and load), and 回避."""

from typing import Annotated

from fastapi import APIRouter

from shared.deps import CurrentUser

from .. import access, disputes, views
from ..access import Access
from ..schemas import AssignIn, DisputeView, ObjectionIn
from .deps import AuditedUow, answers, managing, readable

router = APIRouter(tags=["调解员指派与回避 assignment"])


@router.post("/disputes/{dispute_id}/assign", response_model=DisputeView,
             summary="指派调解员（当事人选定或自动）assign a mediator", responses=answers(403, 404, 409))
def assign(body: AssignIn, seen: Annotated[Access, managing("write.assign")], user: CurrentUser,
           uow: AuditedUow) -> DisputeView:
    disputes.assign(uow.session, uow.emit, seen.dispute, body.mediator_id)
    return views.dispute(uow.session, seen.dispute, access.after_assignment(uow.session, seen.dispute, user))


@router.post("/disputes/{dispute_id}/objections", summary="申请调解员回避 object to a mediator (回避)",
             responses=answers(403, 404, 409))
def objection(body: ObjectionIn, seen: Annotated[Access, readable("write.objection")], user: CurrentUser,
              uow: AuditedUow) -> dict:
    party, _how = access.acting_party(uow.session, seen, user, body.party_id)
    replaced = disputes.object_to(uow.session, uow.emit, seen.dispute, party, body.mediator_id, body.reason)
    return views.objection(uow.session, seen.dispute, replaced)
