"""The trace of one case for admins: every request that changed it, followed through every service."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import func, select

from shared import trace_api
from shared.deps import CurrentUser, Runtime, Uow
from shared.errors import ApiError

from ..models import Case, audit
from .deps import answers

router = APIRouter(tags=["运维 operations"])
# The latest requests that changed a case are what an admin chasing a complaint looks at.
MAX_REQUESTS = 50


def correlation_ids(session, case_id: str) -> list[str]:
    """The requests (correlation ids) whose events changed this case, newest last: intake's audit trail
    records each event intake emits with the request id that caused it, indexed by subject."""
    t = audit
    rows = session.execute(
        select(t.c.request_id, func.min(t.c.id).label("first"))
        .where(t.c.subject_kind == "case", t.c.subject_id == case_id, t.c.request_id.is_not(None),
               t.c.action.startswith("intake."))
        .group_by(t.c.request_id).order_by(func.min(t.c.id).desc()).limit(MAX_REQUESTS)).all()
    return [r.request_id for r in reversed(rows)]


@router.get("/cases/{case_id}/trace", response_model=trace_api.Trace,
            summary="一件诉求的全链路追踪（管理员）the trace of one case across every service",
            description="找出改变过这件诉求的每个请求（关联编号，最近 50 个），列出各服务为它们发出和处理的事件，"
                        "以及通知服务发出的消息。单进程部署包含全部服务；分服务部署时只含受理服务的部分，"
                        "其余服务列在 missing 中，用 make trace CORRELATION=… 读取。仅管理员；其他人 404。"
                        "Every request that changed the case (its correlation ids, the latest 50), with the events "
                        "each service emitted and handled for them and notify's messages. Embedded: every service; "
                        "services mode: intake's part, the others listed in missing (make trace CORRELATION=…). "
                        "Admins only; 404 for anybody else.",
            responses=answers(404))
def case_trace(user: CurrentUser, case_id: Annotated[str, Path(max_length=36, description="诉求编号 the case id")],
               rt: Runtime, uow: Uow) -> trace_api.Trace:
    if user.role != "admin" or uow.session.get(Case, case_id) is None:
        raise ApiError(404, "case.not_found")  # an admin's rule: for anybody else, no such case
    ids = correlation_ids(uow.session, case_id)
    found = trace_api.gather(rt, ids, uow.session)
    uow.audit("read.trace", subject_kind="case", subject_id=case_id, detail={"count": len(found.entries)})
    return found
