"""`GET /<service>/v1/audit`: the service's audit trail for supervisors and admins. Nobody edits
it (there is no endpoint that could); reading it is itself recorded."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field
from sqlalchemy import select

from .deps import Runtime, StaffUser, Uow
from .errors import ApiError

READERS = ("supervisor", "admin")


def _sane(value: datetime | None) -> datetime | None:
    if value is not None and not datetime(2000, 1, 1, tzinfo=UTC) <= value <= datetime(2100, 1, 1, tzinfo=UTC):
        raise ValueError("between 2000 and 2100")
    return value


When = Annotated[AwareDatetime | None, AfterValidator(_sane)]


class AuditEntry(BaseModel):
    id: int = Field(description="条目编号（链中顺序）the entry's place in the chain")
    at: datetime = Field(description="时间 when")
    actor_id: str | None = Field(description="操作者：用户、API 密钥（key:…）或 system the actor")
    actor_role: str | None = Field(description="操作者角色 the actor's role")
    action: str = Field(description="动作：事件类型、read.*、export.* the action")
    subject_kind: str | None = Field(description="对象类型 what it concerned")
    subject_id: str | None = Field(description="对象编号 which one")
    ip: str | None = Field(description="来源地址 from where")
    request_id: str | None = Field(description="请求编号 the request id")
    sealed: bool = Field(description="是否已链入（防篡改）whether it is chained yet")


class AuditPage(BaseModel):
    items: list[AuditEntry]


router = APIRouter(tags=["审计 audit"])


@router.get("/audit", response_model=AuditPage, summary="审计记录（督办人员与管理员，只读）the audit trail",
            responses={403: {"description": "仅督办人员和管理员 supervisors and admins only"}})
def audit_trail(user: StaffUser, rt: Runtime, uow: Uow,
                subject_kind: Annotated[str | None, Query(max_length=30)] = None,
                subject_id: Annotated[str | None, Query(max_length=64)] = None,
                actor_id: Annotated[str | None, Query(max_length=64)] = None,
                action: Annotated[str | None, Query(max_length=80, description="前缀 a prefix, e.g. read.")] = None,
                since: When = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                before_id: Annotated[int | None, Query(ge=1, le=2**62, description="翻页：此编号之前")] = None,
                ) -> AuditPage:
    if user.role not in READERS:
        raise ApiError(403, "auth.forbidden")
    t = rt.audit
    query = select(t).order_by(t.c.id.desc()).limit(limit)
    for column, value in ((t.c.subject_kind, subject_kind), (t.c.subject_id, subject_id),
                          (t.c.actor_id, actor_id)):
        if value is not None:
            query = query.where(column == value)
    if action:
        query = query.where(t.c.action.startswith(action))
    if since:
        query = query.where(t.c.at >= since)
    if before_id:
        query = query.where(t.c.id < before_id)
    rows = uow.session.execute(query).all()
    uow.audit("read.audit", detail={"filters": {k: v for k, v in (("subject_kind", subject_kind),
                                                                    ("subject_id", subject_id),
                                                                    ("actor_id", actor_id), ("action", action))
                                                 if v}})
    return AuditPage(items=[AuditEntry(id=r.id, at=r.at, actor_id=r.actor_id, actor_role=r.actor_role,
                                       action=r.action, subject_kind=r.subject_kind, subject_id=r.subject_id,
                                       ip=r.ip, request_id=r.request_id, sealed=r.hash is not None) for r in rows])
