"""Care visits: record one (a help request returns the case draft for intake), and the visits due."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from shared.db import utcnow
from shared.deps import CurrentUser, Uow

from .. import access, visits, writes
from ..schemas import DueView, VisitIn, VisitView
from .deps import IdempotencyKey, answered, answers

router = APIRouter(tags=["走访 visits"])


@router.post("/visits", status_code=201, response_model=VisitView, responses=answers(400, 403, 404, 409),
             summary="记录一次走访 record a care visit",
             description="走访情况加密保存；help_needed=true 时应答附 case_draft：由手机提交 POST /intake/v1/cases"
                         "（渠道 grid_patrol，求助），网格员为反映人。带 Idempotency-Key 重放返回首次应答。")
def record_visit(body: VisitIn, user: CurrentUser, uow: Uow, key: IdempotencyKey = None):
    return answered(*writes.run(uow, user, "visit.record", key, None, body)[:2])


@router.get("/visits/due", response_model=list[DueView], responses=answers(403),
            summary="应走访（含已超期）的对象 visits due",
            description="本辖区内 within_days 天内到期或已超期的走访对象。")
def visits_due(user: CurrentUser, uow: Uow,
               within_days: Annotated[int, Query(ge=0, le=60, description="几天内到期")] = 3,
               limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[DueView]:
    sight = access.register_reader(uow, user, "read.visits_due")
    now = utcnow()
    rows = visits.due(uow.session, sight.entries(), now + timedelta(days=within_days), limit)
    access.audit(uow, "read.visits_due", True, count=len(rows), entry_ids=[e.id for e in rows])
    return [DueView(person_id=e.id, grid_code=e.grid_code, category=e.category, visit_due_at=e.visit_due_at,
                    overdue=e.visit_due_at <= now, last_visit_at=e.last_visit_at) for e in rows]
