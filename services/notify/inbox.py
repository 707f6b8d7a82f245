"""The in-app inbox: every message a person is told, delivered on creation, read or unread."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow

from .models import Message


def _mine(user_id: str):
    return (Message.recipient_id == user_id, Message.channel == "inbox")


def newest(session: Session, user_id: str, unread_only: bool, limit: int) -> list[Message]:
    query = select(Message).where(*_mine(user_id))
    if unread_only:
        query = query.where(Message.read_at.is_(None))
    return list(session.scalars(query.order_by(Message.created_at.desc()).limit(limit)))


def unread_count(session: Session, user_id: str) -> int:
    return session.scalar(select(func.count()).where(*_mine(user_id), Message.read_at.is_(None)))


def mark_read(m: Message) -> None:
    if m.read_at is None:
        m.read_at = utcnow()
