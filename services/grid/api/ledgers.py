"""Ledgers (台账) as CSV or XLSX, and the month's figures per grid and grid worker — the caller's area only."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from shared import exports
from shared.deps import CurrentUser, Uow

from .. import access, ledger
from ..schemas import StatRow
from .deps import answers

router = APIRouter(tags=["台账与统计 ledgers and statistics"])
Month = Annotated[str, Query(pattern=r"^20\d\d-(0[1-9]|1[0-2])$", description="月份 YYYY-MM（当地时间）")]


@router.get("/ledgers/{kind}", summary="导出台账（巡查、走访、台账变更、自办自结）export a ledger",
            response_class=Response, responses={
                **answers(403), 404: {"description": "没有这种台账 no such ledger"},
                200: {"description": "CSV 或 XLSX 文件", "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in exports.MEDIA_TYPES.values()}}})
def export_ledger(kind: Annotated[Literal["patrols", "visits", "register-changes", "self-resolved"],
                                  Path(description="台账种类")],
                  month: Month, user: CurrentUser, uow: Uow,
                  format: Annotated[Literal["csv", "xlsx"], Query(description="格式")] = "csv") -> Response:
    sight = access.ledger_reader(uow, user, "export.ledger")
    data = ledger.export(uow.session, kind, format, month, lambda column: access.grid_filter(sight, column))
    access.audit(uow, "export.ledger", True, ledger=kind, month=month, format=format)
    return Response(data, media_type=exports.MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="grid-{kind}-{month}.{format}"'})


@router.get("/statistics", response_model=list[StatRow], responses=answers(403),
            summary="月度统计：巡查、里程、发现、自办自结、走访（按网格或网格员）monthly figures")
def statistics(month: Month, user: CurrentUser, uow: Uow,
               by: Annotated[Literal["grid", "worker"], Query(description="按网格 grid 或按网格员 worker")] = "grid"
               ) -> list[StatRow]:
    sight = access.ledger_reader(uow, user, "read.statistics")
    access.audit(uow, "read.statistics", True, month=month)
    return [StatRow(**row) for row in ledger.statistics(uow.session, month,
                                                        lambda column: access.grid_filter(sight, column),
                                                        by_worker=by == "worker")]
