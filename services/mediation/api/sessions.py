"""Mediation sessions (调解会议, including the 四位一体 joint meeting): scheduling, attendance and 笔录."""

from typing import Annotated

from fastapi import APIRouter

from shared.deps import CurrentUser

from .. import meetings, views
from ..access import Access
from ..schemas import SessionCreate, SessionRecordIn
from .deps import AuditedUow, answers, managing, readable

router = APIRouter(tags=["调解会议 sessions"])


@router.post("/disputes/{dispute_id}/sessions", status_code=201,
             summary="安排调解会议（含“四位一体”联席会议）schedule a session", responses=answers(403, 404, 409))
def schedule(body: SessionCreate, seen: Annotated[Access, managing("write.session")], user: CurrentUser,
             uow: AuditedUow) -> dict:
    return views.meeting(uow.session, meetings.schedule(uow.session, uow.emit, seen.dispute, body, user.id),
                         seen.capacity)


@router.get("/disputes/{dispute_id}/sessions", summary="调解会议及笔录 sessions and records", responses=answers(404))
def list_sessions(seen: Annotated[Access, readable("read.sessions")], uow: AuditedUow) -> list[dict]:
    return [views.meeting(uow.session, m, seen.capacity) for m in meetings.of_dispute(uow.session, seen.dispute.id)]


@router.post("/disputes/{dispute_id}/sessions/{session_id}/record",
             summary="记录出席情况和调解笔录 attendance and the record", responses=answers(403, 404, 409))
def record_session(session_id: str, body: SessionRecordIn, seen: Annotated[Access, managing("write.session_record")],
                   uow: AuditedUow) -> dict:
    return views.meeting(uow.session, meetings.record(uow.session, uow.emit, seen.dispute, session_id, body),
                         seen.capacity)
