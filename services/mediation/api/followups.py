"""Follow-ups (回访) on performance and the 司法确认 reminder, and their results."""

from typing import Annotated

from fastapi import APIRouter, Path

from shared.deps import CurrentUser

from .. import agreement as agreements
from .. import views
from ..access import Access
from ..schemas import FollowupIn
from .deps import AuditedUow, answers, managing, readable

router = APIRouter(tags=["回访 follow-ups"])


@router.get("/disputes/{dispute_id}/followups", summary="回访与司法确认提醒 follow-ups", responses=answers(404))
def followups(seen: Annotated[Access, readable("read.followups")], uow: AuditedUow) -> list[dict]:
    agreement = agreements.of(uow.session, seen.dispute.id)
    return [views.followup(f, agreement, seen.capacity) for f in agreements.followups(uow.session, seen.dispute.id)]


@router.post("/disputes/{dispute_id}/followups/{followup_id}",
             summary="记录回访结果（履行情况；未履行的将再次回访）record a follow-up",
             description="只有履行回访（kind performance）记录结果；司法确认提醒（kind court_confirmation）"
                         "是告知当事人的，记录结果返回 409 followup.not_performance。",
             responses=answers(403, 404, 409))
def record_followup(followup_id: Annotated[int, Path(ge=1, le=2**62, description="回访 id")], body: FollowupIn,
                    seen: Annotated[Access, managing("write.followup")], user: CurrentUser,
                    uow: AuditedUow) -> dict:
    f = agreements.record_followup(uow.session, uow.emit, seen.dispute, followup_id, body.result, body.note, user.id)
    return views.followup_recorded(f)
