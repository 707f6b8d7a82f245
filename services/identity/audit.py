"""The trail of sign-in attempts: who (when known), how, from where, the result; never a secret.

Written in the request's own transaction; a refused attempt raises `ApiError(..., keep=True)`, so
its row (and a failure counted towards a lockout) is committed with the refusal.

Each attempt is also an entry of identity's audit trail (shared/audit.py: hash-chained, what the
security audit reads for every service alike), action `signin.<method>.<result>` (`signin.password.ok`,
`signin.sms.code_invalid`, `signin.password_change.wrong_password`), the account as its subject. Its
actor is the account only when the attempt proves who is asking (it succeeded, or the caller was
signed in already: changing one's password, linking a phone); a failed sign-in has no actor, since
anyone may type a name. The entry holds the method and the result code only: the name or phone
tried stays in the attempt row, as its keyed hash.
"""

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import audit as trail
from shared.db import utcnow

from .models import SignInAttempt, User
from .models import audit as audit_table

# Attempts by a caller signed in already: the account is the actor whatever the result.
SIGNED_IN = frozenset({"password_change", "link_phone", "sms_code"})


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


def action(method: str, result: str) -> str:
    """`signin.<method>.<result>`, the result without its family: signin.failed → failed."""
    return f"signin.{method}.{result.rsplit('.', 1)[-1]}"


def record(session: Session, client: Client, method: str, result: str, *, user_id: str | None = None,
           identifier_index: str | None = None) -> None:
    """The attempt's row, and its entry in the audit trail beside it (`user_id` is a code request's
    signed-in caller for method sms_code: given only with the purpose link_phone)."""
    at = utcnow()
    session.add(SignInAttempt(at=at, method=method, result=result, user_id=user_id,
                              identifier_index=identifier_index, ip=client.ip, user_agent=client.user_agent,
                              request_id=client.request_id))
    proven = user_id is not None and (result == "ok" or method in SIGNED_IN)
    user = session.get(User, user_id) if proven else None
    actor = trail.Actor(user_id if proven else None, user.role if user is not None else None, client.ip,
                        client.request_id)
    trail.record(session, audit_table, actor, action(method, result), subject_kind="user" if user_id else None,
                 subject_id=user_id, detail={"method": method, "result": result}, at=at)


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
