"""Statistics (accepted, 化解率, average duration) and who read a record (the audit trail's entries for it)."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import CurrentUser

from .. import access, stats, views
from ..access import Access
from ..schemas import AuditEntryView, When
from .deps import AuditedUow, answers, readable

router = APIRouter(tags=["统计与查阅记录 statistics and audit"])


@router.get("/statistics", summary="统计：受理数、化解率、平均用时，按类型、委员会、调解员 statistics",
            responses={403: {"description": "只有调解员、委员会主任、督办人员和管理员 mediation staff only"}})
def statistics(user: CurrentUser, uow: AuditedUow,
               date_from: Annotated[When | None, Query(alias="from", description="申请时间起（含），须带时区")] = None,
               date_to: Annotated[When | None, Query(alias="to", description="申请时间止（不含），须带时区")] = None,
               ) -> dict:
    scope = access.statistics_scope(uow, user)
    return stats.compute(uow.session, date_from, date_to, scope)


@router.get("/disputes/{dispute_id}/audit", response_model=list[AuditEntryView], responses=answers(403, 404),
            summary="本案的审计记录：谁查阅、做了什么（仅委员会主任）who read and changed the record")
def audit_log(seen: Annotated[Access, readable("read.audit")], uow: AuditedUow,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200,
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[AuditEntryView]:
    return [views.audit_entry(r) for r in access.audit_entries(uow.session, seen, limit, offset)]
