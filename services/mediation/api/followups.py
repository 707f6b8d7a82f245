"""Follow-ups (回访) on performance and the 司法确认 reminder, and their results."""

from typing import Annotated

from fastapi import APIRouter

from shared.deps import CurrentUser

from .. import agreement as agreements
from .. import views
from ..access import Access
from ..schemas import FollowupIn
from .deps import AuditedUow, managing, readable

router = APIRouter(tags=["回访 follow-ups"])


@router.get("/disputes/{dispute_id}/followups", summary="回访与司法确认提醒 follow-ups")
def followups(seen: Annotated[Access, readable("read.followups")], uow: AuditedUow) -> list[dict]:
    return [views.followup(f) for f in agreements.followups(uow.session, seen.dispute.id)]


@router.post("/disputes/{dispute_id}/followups/{followup_id}", summary="记录回访结果 record a follow-up")
def record_followup(followup_id: int, body: FollowupIn, seen: Annotated[Access, managing("write.followup")],
                    user: CurrentUser, uow: AuditedUow) -> dict:
    f = agreements.record_followup(uow.session, seen.dispute, followup_id, body.result, body.note, user.id)
    return views.followup_recorded(f)
