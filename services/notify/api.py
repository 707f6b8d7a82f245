"""Notify's REST API under /notify/v1: the in-app inbox."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from shared.auth import CurrentUser
from shared.db import utcnow
from shared.errors import ApiError
from shared.runtime import ServiceRuntime

from .models import Message


class InboxMessage(BaseModel):
    id: str
    title: str
    body: str
    subject_kind: str
    subject_id: str
    created_at: datetime
    read_at: datetime | None


def _view(m: Message) -> InboxMessage:
    return InboxMessage(id=m.id, title=m.title, body=m.body, subject_kind=m.subject_kind,
                        subject_id=m.subject_id, created_at=m.created_at, read_at=m.read_at)


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1/inbox", tags=["站内信 inbox"])

    @api.get("", response_model=list[InboxMessage], summary="我的站内信 my messages, newest first")
    def inbox(user: CurrentUser, unread_only: bool = False,
              limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[InboxMessage]:
        query = select(Message).where(Message.recipient_id == user.id, Message.channel == "inbox")
        if unread_only:
            query = query.where(Message.read_at.is_(None))
        with rt.uow() as session:
            rows = session.scalars(query.order_by(Message.created_at.desc()).limit(limit)).all()
        return [_view(m) for m in rows]

    @api.get("/unread-count", summary="未读数量 unread count")
    def unread_count(user: CurrentUser) -> dict:
        with rt.uow() as session:
            n = session.scalar(select(func.count()).where(
                Message.recipient_id == user.id, Message.channel == "inbox", Message.read_at.is_(None)))
        return {"unread": n}

    @api.post("/{message_id}/read", response_model=InboxMessage, summary="标记已读 mark as read")
    def mark_read(message_id: str, user: CurrentUser) -> InboxMessage:
        with rt.uow() as session:
            message = session.get(Message, message_id)
            if message is None or message.recipient_id != user.id:
                raise ApiError(404, "not_found", field="message_id")
            if message.read_at is None:
                message.read_at = utcnow()
            return _view(message)

    return api
