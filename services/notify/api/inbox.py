from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import CurrentUser, SessionDep

from .. import inbox, views
from ..schemas import InboxMessage
from .deps import MyInboxMessage

router = APIRouter(tags=["站内信 inbox"])


@router.get("/inbox", name="inbox", summary="我的站内信，最新在前 my messages, newest first")
def list_inbox(user: CurrentUser, session: SessionDep, unread_only: bool = False,
               limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[InboxMessage]:
    return [views.inbox_message(m) for m in inbox.newest(session, user.id, unread_only, limit)]


@router.get("/inbox/unread-count", summary="未读数量 unread count")
def unread_count(user: CurrentUser, session: SessionDep) -> dict:
    return {"unread": inbox.unread_count(session, user.id)}


@router.post("/inbox/{message_id}/read", summary="标记已读 mark as read",
             responses={404: {"description": "没有这条消息，或不是我的 no such message of mine"}})
def mark_read(message: MyInboxMessage) -> InboxMessage:
    inbox.mark_read(message)
    return views.inbox_message(message)
