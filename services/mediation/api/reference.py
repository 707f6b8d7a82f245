"""Reference data: dispute types, risk indicators, committees and their mediators."""

from fastapi import APIRouter

from shared.deps import CurrentUser, SessionDep, StaffUser

from .. import directory, views

router = APIRouter(tags=["目录 reference data"])


@router.get("/dispute-types", summary="纠纷类型 dispute types")
def dispute_types(user: CurrentUser) -> list[dict]:
    return views.dispute_types()


@router.get("/risk-indicators", summary="风险评估指标 risk indicators")
def risk_indicators(user: StaffUser) -> list[dict]:
    return views.risk_indicators()


@router.get("/committees", summary="人民调解委员会 mediation committees")
def committees(user: CurrentUser, session: SessionDep) -> list[dict]:
    return [views.committee(c) for c in directory.committees(session)]


@router.get("/mediators", summary="调解员（当事人可选择或申请回避）mediators")
def mediators(user: CurrentUser, session: SessionDep, committee_id: str | None = None) -> list[dict]:
    return [views.mediator(session, m, user) for m in directory.mediators(session, committee_id)]
