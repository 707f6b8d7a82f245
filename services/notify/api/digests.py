from typing import Annotated

from fastapi import APIRouter, Query

from shared import fields
from shared.deps import SessionDep

from .. import digest, views
from ..schemas import DigestEntry
from .deps import ReadableUnit

router = APIRouter(tags=["汇总 digest"])


Day = Annotated[fields.Day, Query(description="当地日期 the local day, YYYY-MM-DD")]


@router.get("/digests/{unit_id}", name="digest",
            summary="某单位某日的预警与超时工单 a unit's warned and overdue work orders of a day",
            description="本单位工作人员、辖区督办人员和管理员可读。Its own staff, supervisors above it, admins.",
            responses={403: {"description": "不是本单位、辖区或管理员 not of this unit, above it or an admin"}})
def unit_digest(unit_id: ReadableUnit, day: Day, session: SessionDep) -> list[DigestEntry]:
    return [views.digest_entry(r) for r in digest.items_of(session, unit_id, day)]
