"""The trail of sign-in attempts: who (when known), how, from where, the result; never a secret.

Written in the request's own transaction; a refused attempt raises `ApiError(..., keep=True)`, so
its row (and a failure counted towards a lockout) is committed with the refusal.
"""

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow

from .models import SignInAttempt


@dataclass(frozen=True)
class Client:
    """Where a request came from, as the audit trail and the per-address limits see it."""

    ip: str | None
    user_agent: str | None
    request_id: str | None

    @classmethod
    def of(cls, request: Request) -> "Client":
        return cls(request.client.host if request.client else None,
                   (request.headers.get("user-agent") or "")[:200] or None, request.headers.get("x-request-id"))


def record(session: Session, client: Client, method: str, result: str, *, user_id: str | None = None,
           identifier_index: str | None = None) -> None:
    session.add(SignInAttempt(at=utcnow(), method=method, result=result, user_id=user_id,
                              identifier_index=identifier_index, ip=client.ip, user_agent=client.user_agent,
                              request_id=client.request_id))


def listed(session: Session, *, user_id: str | None = None, method: str | None = None, result: str | None = None,
           since: datetime | None = None, page: int = 1, page_size: int = 50) -> tuple[list[SignInAttempt], int]:
    """The trail, newest first."""
    query = select(SignInAttempt)
    if user_id is not None:
        query = query.where(SignInAttempt.user_id == user_id)
    if method is not None:
        query = query.where(SignInAttempt.method == method)
    if result is not None:
        query = query.where(SignInAttempt.result == result)
    if since is not None:
        query = query.where(SignInAttempt.at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(SignInAttempt.at.desc(), SignInAttempt.id.desc())
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return list(rows), total
