from typing import Annotated

from fastapi import APIRouter, Query

from shared.audit import safe_id
from shared.deps import SessionDep, StaffUser, Uow

from .. import access, delivery, views
from ..schemas import MessageState
from .deps import AdminUser, MessageById, SenderWakeup

router = APIRouter(tags=["投递 delivery"])

ADMINS_ONLY = {403: {"description": "仅管理员 admins only"}}


@router.get("/messages",
            summary="某事项的通知投递状态（督办人员限本辖区，管理员）delivery states of the messages about a case "
                    "or dispute",
            description="督办人员只看到其辖区内工作人员收到过通知的诉求，管理员看到全部；调解纠纷的投递记录仅管理员可见"
                        "（人民调解法：纠纷只对当事人、调解员和调委会主任可见）。居民收件人只对管理员显示。"
                        "不在范围内的事项答空列表。每次读取记入审计（read.deliveries）。Supervisors see the cases "
                        "staff of their subtree were told about, admins all; a mediation dispute's records are "
                        "the admins' only; out of scope is an empty list.",
            responses={403: {"description": "仅督办人员和管理员 supervisors and admins only"}})
def messages(user: StaffUser, uow: Uow,
             subject_id: Annotated[str, Query(min_length=1, max_length=64, description="诉求或纠纷编号 the subject")],
             limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[MessageState]:
    session = uow.session
    rows = delivery.of_subject(session, subject_id, limit, access.delivery_scope(session, user))
    # The parameter is whatever the caller typed (a phone or an ID number where an id belongs): the
    # trail keeps it only as an id may look.
    uow.audit("read.deliveries", subject_kind=rows[0].subject_kind if rows else None,
              subject_id=safe_id(subject_id), detail={"count": len(rows)})
    return views.message_states(session, user, rows)


@router.get("/admin/dead-letters", summary="死信队列：所有渠道都失败的消息及原因（管理员）the dead-letter queue",
            responses=ADMINS_ONLY)
def dead_letters(user: AdminUser, uow: Uow, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[MessageState]:
    rows = delivery.dead_letters(uow.session, limit)
    uow.audit("read.dead_letters", detail={"count": len(rows)})
    return [views.message_state(m) for m in rows]


@router.post("/admin/dead-letters/{message_id}/requeue",
             summary="重新投递死信（例如修好渠道配置后）requeue a dead letter",
             responses={**ADMINS_ONLY, 404: {"description": "没有这条消息 no such message"},
                        409: {"description": "该消息不在死信队列中 notify.not_dead"}})
def requeue(user: AdminUser, message: MessageById, session: SessionDep, uow: Uow, wake: SenderWakeup) -> MessageState:
    delivery.requeue(session, message, wake)
    uow.audit("notify.dead_letter.requeued", subject_kind="message", subject_id=message.id,
              detail={"channel": message.channel, "template": message.template, "event_id": message.event_id})
    return views.message_state(message)
