"""The trail of sign-in attempts: who (when known), how, from where, the result; never a secret.

Written in the request's own transaction; a refused attempt raises `ApiError(..., keep=True)`, so
its row (and a failure counted towards a lockout) is committed with the refusal.
"""

from dataclasses import dataclass

from fastapi import Request
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
