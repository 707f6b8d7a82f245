from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import SessionDep, StaffUser

from .. import delivery, views
from ..schemas import MessageState
from .deps import AdminUser, MessageById, SenderWakeup

router = APIRouter(tags=["投递 delivery"])


@router.get("/messages",
            summary="某事项的通知投递状态（工作人员）delivery states of the messages about a case or dispute")
def messages(user: StaffUser, session: SessionDep, subject_id: str,
             limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[MessageState]:
    return views.message_states(session, user, delivery.of_subject(session, subject_id, limit))


@router.get("/admin/dead-letters", summary="死信队列：所有渠道都失败的消息及原因（管理员）the dead-letter queue")
def dead_letters(user: AdminUser, session: SessionDep,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[MessageState]:
    return [views.message_state(m) for m in delivery.dead_letters(session, limit)]


@router.post("/admin/dead-letters/{message_id}/requeue",
             summary="重新投递死信（例如修好渠道配置后）requeue a dead letter")
def requeue(user: AdminUser, message: MessageById, session: SessionDep, wake: SenderWakeup) -> MessageState:
    delivery.requeue(session, message, wake)
    return views.message_state(message)
