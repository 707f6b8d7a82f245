"""议事 outcome figures per community and period, as JSON and as a CSV or XLSX export."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from shared import exports, periods
from shared.deps import CurrentUser, Uow

from .. import access, reports
from ..schemas import OutcomeRow

router = APIRouter(tags=["议事统计 reports"])

Period = Annotated[str, Query(min_length=4, max_length=7, pattern=periods.PATTERN, examples=periods.EXAMPLES,
                              description=periods.DESCRIPTION)]
FORBIDDEN = {403: {"description": "只有社区、街道工作人员、督办人员和管理员 staff who read the figures only"}}


@router.get("/reports/outcomes", response_model=list[OutcomeRow], responses=FORBIDDEN,
            summary="议事结果统计（按社区、统计期；阶段会议结果）consultation outcomes")
def outcomes(user: CurrentUser, uow: Uow, period: Period) -> list[OutcomeRow]:
    within = access.report_scope(uow.session, user)
    return [OutcomeRow(**r) for r in reports.outcomes(uow.session, periods.parse(period, "selfgov.bad_period"), within)]


def _export(user, uow: Uow, period: str, fmt: str) -> Response:
    within = access.report_scope(uow.session, user)
    p = periods.parse(period, "selfgov.bad_period")
    headers, rows = reports.table(reports.outcomes(uow.session, p, within))
    uow.audit("export.outcomes", detail={"period": p.label, "rows": len(rows), "format": fmt})
    return Response(exports.table(fmt, "议事结果", headers, rows), media_type=exports.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="selfgov-outcomes-{p.label}.{fmt}"'})


@router.get("/reports/outcomes.csv", response_class=Response,
            responses={200: {"description": "CSV 文件 the figures as CSV", "content": {"text/csv": {"schema": {
                "type": "string"}}}}, **FORBIDDEN},
            summary="议事结果统计导出 CSV export")
def outcomes_csv(user: CurrentUser, uow: Uow, period: Period) -> Response:
    return _export(user, uow, period, "csv")


@router.get("/reports/outcomes.xlsx", response_class=Response,
            responses={200: {"description": "XLSX 文件 the figures as a workbook", "content": {
                exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}, **FORBIDDEN},
            summary="议事结果统计导出 XLSX export")
def outcomes_xlsx(user: CurrentUser, uow: Uow, period: Period) -> Response:
    return _export(user, uow, period, "xlsx")
