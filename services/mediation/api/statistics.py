"""Statistics (accepted, 化解率, average duration) and the audit log of a record."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from shared.deps import CurrentUser

from .. import access, stats, views
from ..access import Access
from .deps import AuditedUow, readable

router = APIRouter(tags=["统计与查阅记录 statistics and audit"])


@router.get("/statistics", summary="统计：受理数、化解率、平均用时，按类型、委员会、调解员 statistics")
def statistics(user: CurrentUser, uow: AuditedUow,
               date_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
               date_to: Annotated[AwareDatetime | None, Query(alias="to")] = None) -> dict:
    scope = access.statistics_scope(uow.session, user)
    return stats.compute(uow.session, date_from, date_to, scope)


@router.get("/disputes/{dispute_id}/audit", summary="查阅记录（仅委员会主任）the audit log of a dispute")
def audit_log(seen: Annotated[Access, readable("read.audit")], uow: AuditedUow,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200,
              offset: Annotated[int, Query(ge=0)] = 0) -> list[dict]:
    return [views.audit_entry(r) for r in access.audit_log(uow.session, seen, limit, offset)]
