"""Risk assessment (低 / 中 / 高 / 极高) and its history; 高 and above raises a 民转刑 warning."""

from typing import Annotated

from fastapi import APIRouter

from shared.deps import CurrentUser

from .. import risk, views
from ..access import Access
from ..schemas import RiskIn
from .deps import AuditedUow, answers, managing

router = APIRouter(tags=["风险评估 risk"])


@router.post("/disputes/{dispute_id}/risk", status_code=201, summary="风险评估（民转刑预警）assess the risk",
             responses=answers(403, 404, 409))
def assess(body: RiskIn, seen: Annotated[Access, managing("write.risk")], user: CurrentUser,
           uow: AuditedUow) -> dict:
    return views.assessment(risk.assess(uow.session, uow.emit, seen.dispute, body.indicators, body.people_involved,
                                        body.note, user.id))


@router.get("/disputes/{dispute_id}/risk", summary="风险评估记录 risk assessments", responses=answers(403, 404))
def risk_history(seen: Annotated[Access, managing("read.risk")], uow: AuditedUow) -> list[dict]:
    return [views.past_assessment(a) for a in risk.history(uow.session, seen.dispute.id)]
