from datetime import date

from fastapi import APIRouter

from shared.deps import SessionDep

from .. import digest, views
from ..schemas import DigestEntry
from .deps import ReadableUnit

router = APIRouter(tags=["汇总 digest"])


@router.get("/digests/{unit_id}", name="digest",
            summary="某单位某日的预警与超时工单 a unit's warned and overdue work orders of a day")
def unit_digest(unit_id: ReadableUnit, day: date, session: SessionDep) -> list[DigestEntry]:
    return [views.digest_entry(r) for r in digest.items_of(session, unit_id, day)]
