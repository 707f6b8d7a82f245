"""`GET /<service>/v1/audit`: the service's audit trail, each reader limited to what the service's
access rule lets her read (`ServiceSpec.audit_scope`, in its access.py), applied in the query: the
entries out of her scope are simply absent. Nobody edits the trail (there is no endpoint that
could); reading it is itself recorded. Addresses are shown to admins only.

And the record of refusals: a 403 or 404 answered to someone signed in (an `ApiError`) is an entry
`refused.<code>`, its subject the first id of the route's path (the route's template, the method and
the status in its detail), written in a transaction of its own (the request's was rolled back). A
resident's refusal names her by her pseudonym where it concerns her own anonymous or confidential
record (`_concealed`). A service that records a refusal itself, in its own
words, marks the error (`shared.audit.recorded`) and it is not recorded twice.
"""

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Table, select, true
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from . import audit, fields
from .auth import User
from .deps import Runtime, StaffUser, Uow, request_actor
from .errors import ApiError
from .http import route_template
from .messaging import deferred

log = logging.getLogger(__name__)

# (session, user, the audit table) → the condition on the entries this user reads; 403 for a role
# that reads none. Each service's access.py has one (ServiceSpec.audit_scope).
AuditScope = Callable[[Session, User, Table], ColumnElement[bool]]


def admins_only(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """The rule of a service that declares none."""
    if user.role != "admin":
        raise ApiError(403, "auth.forbidden")
    return true()


def about(table: Table, kind: str, ids) -> ColumnElement[bool]:
    """Entries whose subject is of this kind and among these ids (a SELECT of ids, or a list)."""
    return (table.c.subject_kind == kind) & table.c.subject_id.in_(ids)


When = fields.When | None


class AuditEntry(BaseModel):
    id: int = Field(description="条目编号（链中顺序）the entry's place in the chain")
    at: datetime = Field(description="时间 when")
    actor_id: str | None = Field(description="操作者：用户、匿名/保密诉求人的假名（anon:…）、API 密钥（key:…）"
                                             "或 system the actor: a user, a pseudonym (anon:…), an API key "
                                             "(key:…) or system")
    actor_role: str | None = Field(description="操作者角色 the actor's role")
    action: str = Field(description="动作：事件类型、read.*、export.*、refused.* the action")
    subject_kind: str | None = Field(description="对象类型 what it concerned")
    subject_id: str | None = Field(description="对象编号 which one")
    detail: dict | None = Field(description="补充（仅编号与代码）more detail: ids and codes only")
    ip: str | None = Field(description="来源地址（仅管理员可见）from where: shown to admins only")
    request_id: str | None = Field(description="请求编号 the request id")
    sealed: bool = Field(description="是否已链入（防篡改）whether it is chained yet")


class AuditPage(BaseModel):
    items: list[AuditEntry]


router = APIRouter(tags=["审计 audit"])


def _detail(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else {"value": value}


@router.get("/audit", response_model=AuditPage, summary="审计记录（按服务的权限范围，只读）the audit trail",
            description="管理员可读全部；其他角色按本服务的规则只读其范围内对象的记录（见各服务 access.py），"
                        "范围外的记录不出现。来源地址仅管理员可见。Admins read every entry; other readers the "
                        "entries about records in their scope under the service's rule; addresses to admins only.",
            responses={403: {"description": "本服务的审计记录不对您的角色开放 your role reads none of this trail"}})
def audit_trail(request: Request, user: StaffUser, rt: Runtime, uow: Uow,
                subject_kind: Annotated[str | None, Query(max_length=30)] = None,
                subject_id: Annotated[str | None, Query(max_length=64)] = None,
                actor_id: Annotated[str | None, Query(max_length=64)] = None,
                action: Annotated[str | None, Query(max_length=80, description="前缀 a prefix, e.g. read.")] = None,
                since: When = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                before_id: Annotated[int | None, Query(ge=1, le=2**62, description="翻页：此编号之前")] = None,
                ) -> AuditPage:
    t = rt.audit
    deferred.write(uow.session)  # this request's own entries (uow.audit) are part of the trail it reads
    scope: AuditScope = getattr(request.app.state, "audit_scope", None) or admins_only
    query = select(t).where(scope(uow.session, user, t)).order_by(t.c.id.desc()).limit(limit)
    for column, value in ((t.c.subject_kind, subject_kind), (t.c.subject_id, subject_id),
                          (t.c.actor_id, actor_id)):
        if value is not None:
            query = query.where(column == value)
    if action:
        query = query.where(t.c.action.startswith(action, autoescape=True))
    if since:
        query = query.where(t.c.at >= since)
    if before_id:
        query = query.where(t.c.id < before_id)
    rows = uow.session.execute(query).all()
    uow.audit("read.audit", detail={"filters": {k: v for k, v in (("subject_kind", subject_kind),
                                                                    ("subject_id", subject_id),
                                                                    ("actor_id", actor_id), ("action", action))
                                                 if v}, "count": len(rows)})
    admin = user.role == "admin"
    return AuditPage(items=[AuditEntry(id=r.id, at=r.at, actor_id=r.actor_id, actor_role=r.actor_role,
                                       action=r.action, subject_kind=r.subject_kind, subject_id=r.subject_id,
                                       detail=_detail(r.detail), ip=r.ip if admin else None,
                                       request_id=r.request_id, sealed=r.hash is not None) for r in rows])


# --------------------------------------------------------------------------- refusals

REFUSED = (403, 404)
# A path parameter → the subject kind the service's own entries use for it (else the name less "_id").
KINDS = {"order_id": "work_order", "hook_id": "webhook", "key_id": "api_key"}


CODES = ("unit_id", "unit_code")


def _clean(name: str, value) -> str:
    """A path value as an id for the trail (`audit.safe_id`): anything else — a phone typed with
    separators, Chinese text, a long number — may be personal data typed where an id belongs and is
    recorded as "(invalid)"."""
    return audit.safe_id(value, code=name in CODES)


def _concealed(request: Request, rt, who, kind: str | None, subject: str | None) -> bool:
    """Whether this refusal names its resident by her pseudonym: her request's unit of work concealed
    her already, or the service says the subject is her own anonymous or confidential record
    (`ServiceSpec.refusal_conceals`), as when a staff-only act on her own anonymous case is refused
    before the service looked at the case. Any other refusal names her: a resident probing other
    people's records is who the trail is for."""
    if getattr(request.state, "audit_actor", None) is not None:
        return True
    conceals = getattr(request.app.state, "refusal_conceals", None)
    if conceals is None or not isinstance(who, User) or who.role != "resident" or subject is None:
        return False
    with rt.uow() as session:
        return bool(conceals(session, who, kind, subject))


def _record_refusal(request: Request, error: ApiError) -> None:
    who = getattr(request.state, "principal", None)
    if who is None:
        return  # nobody signed in: nobody to name (401s are not refusals of a person)
    rt = request.app.state.runtime
    params = dict(request.path_params)
    name, raw = next(((n, str(v)) for n, v in params.items()), (None, None))
    kind = KINDS.get(name, name.removesuffix("_id")) if name is not None else None
    subject = _clean(name, raw) if name is not None else None
    actor = request_actor(request)
    try:
        if _concealed(request, rt, who, kind, raw):
            actor = actor.concealed(rt.audit_keys.pseudonym, audit.subject_key(kind, raw))
            request.state.audit_actor = actor.concealed()  # the access log line: "anon", no address
        detail = {"status": error.status, "method": request.method, "route": route_template(request.scope)}
        if len(params) > 1:
            detail["path"] = {k: _clean(k, v) for k, v in params.items()}
        with rt.uow() as session:
            audit.record(session, rt.audit, actor, f"refused.{error.code}", subject_kind=kind, subject_id=subject,
                         detail=detail)
    except Exception as exc:  # the refusal is answered all the same; the reason by its type only
        log.error("%s: could not record a refused request in the audit trail: %s", rt.name, type(exc).__name__)


def record_refusals(app: FastAPI) -> None:
    """Every 403 or 404 `ApiError` answered to someone signed in becomes an entry of the service's
    trail, then is answered as before (shared/errors.py)."""
    answer = app.exception_handlers[ApiError]

    async def refused(request: Request, error: ApiError):
        if error.status in REFUSED and not getattr(error, "audit_recorded", False):
            await run_in_threadpool(_record_refusal, request, error)
        return await answer(request, error)

    app.add_exception_handler(ApiError, refused)
