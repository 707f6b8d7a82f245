"""Reference data: dispute types, risk indicators, committees and their mediators."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import CurrentUser, SessionDep, StaffUser

from .. import directory, views
from .deps import answers

router = APIRouter(tags=["目录 reference data"])


@router.get("/dispute-types", summary="纠纷类型 dispute types")
def dispute_types(user: CurrentUser) -> list[dict]:
    return views.dispute_types()


@router.get("/risk-indicators", summary="风险评估指标（工作人员）risk indicators", responses=answers(403))
def risk_indicators(user: StaffUser) -> list[dict]:
    return views.risk_indicators()


@router.get("/committees", summary="人民调解委员会 mediation committees")
def committees(user: CurrentUser, session: SessionDep) -> list[dict]:
    return [views.committee(c) for c in directory.committees(session)]


@router.get("/mediators", summary="调解员（当事人可选择或申请回避）mediators")
def mediators(user: CurrentUser, session: SessionDep,
              committee_id: Annotated[str | None, Query(max_length=36, description="某一调解委员会的")] = None,
              ) -> list[dict]:
    return [views.mediator(session, m, user) for m in directory.mediators(session, committee_id)]
