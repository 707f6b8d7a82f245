"""Statistics (accepted, 化解率, average duration) and who read a record (the audit trail's entries for it)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from shared import exports, periods
from shared.deps import CurrentUser
from shared.errors import ApiError

from .. import access, stats, views
from ..access import Access
from ..schemas import AuditEntryView, When
from .deps import AuditedUow, answers, readable

router = APIRouter(tags=["统计与查阅记录 statistics and audit"])


@router.get("/statistics", summary="统计：受理数、化解率、平均用时，按类型、委员会、调解员 statistics",
            description="期间用 period（月、季度、半年、年度）或 from/to 给出，二者不可同时给；"
                        "to 须晚于 from（否则 422 statistics.bad_range）。"
                        "format=csv/xlsx 导出为表格。",
            responses={200: {"description": "统计；format=csv/xlsx 时为文件 the figures, or a file", "content": {
                "text/csv": {"schema": {"type": "string"}},
                exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}},
                403: {"description": "只有调解员、委员会主任、督办人员和管理员 mediation staff only"}})
def statistics(user: CurrentUser, uow: AuditedUow,
               date_from: Annotated[When | None, Query(alias="from", description="申请时间起（含），须带时区")] = None,
               date_to: Annotated[When | None, Query(alias="to", description="申请时间止（不含），须带时区")] = None,
               period: Annotated[str | None, Query(min_length=4, max_length=7, pattern=periods.PATTERN,
                                                   examples=periods.EXAMPLES, description=periods.DESCRIPTION)] = None,
               format: Annotated[Literal["json", "csv", "xlsx"],
                                 Query(description="json（默认）、csv 或 xlsx")] = "json",
               ):
    scope = access.statistics_scope(uow, user)
    if period is not None:
        if date_from is not None or date_to is not None:
            raise ApiError(422, "statistics.period_and_dates", field="period")
        chosen = periods.parse(period, "statistics.bad_period")
        date_from, date_to = chosen.start, chosen.end
    elif date_from is not None and date_to is not None and date_from >= date_to:
        # An end before the start holds no dispute: all zeros would read as a quiet period.
        raise ApiError(422, "statistics.bad_range", field="to")
    figures = stats.compute(uow.session, date_from, date_to, scope)
    if format == "json":
        return figures
    headers, rows = stats.table(figures)
    uow.audit("export.statistics", subject_kind="statistics", subject_id=period,
              detail={"format": format, "rows": len(rows)})
    return Response(exports.table(format, "调解统计", headers, rows), media_type=exports.MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="mediation-{period or "range"}.{format}"'})


@router.get("/ledger", response_class=Response, summary="调解台账（CSV/XLSX）the mediation ledger of a period",
            description="统计期内申请的每件纠纷一行：编号、来源、类型、委员会、调解员、状态、时间和风险等级；"
                        "不含当事人和纠纷事实。读者与统计相同（调解员为本委员会）。",
            responses={200: {"description": "台账文件 the ledger", "content": {
                "text/csv": {"schema": {"type": "string"}},
                exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}},
                403: {"description": "只有调解员、委员会主任、督办人员和管理员 mediation staff only"}})
def ledger(user: CurrentUser, uow: AuditedUow,
           period: Annotated[str, Query(min_length=4, max_length=7, pattern=periods.PATTERN,
                                        examples=periods.EXAMPLES, description=periods.DESCRIPTION)],
           limit: Annotated[int, Query(ge=1, le=100_000, description="最多行数")] = 50_000,
           format: Annotated[Literal["csv", "xlsx"], Query(description="csv（默认）或 xlsx")] = "csv"):
    scope = access.statistics_scope(uow, user)
    chosen = periods.parse(period, "statistics.bad_period")
    rows = stats.ledger(uow.session, chosen.start, chosen.end, scope, limit)
    uow.audit("export.ledger", subject_kind="statistics", subject_id=period, detail={"format": format,
                                                                                    "rows": len(rows)})
    return Response(exports.table(format, "调解台账", stats.LEDGER_HEADERS, rows),
                    media_type=exports.MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="mediation-ledger-{period}.{format}"'})


@router.get("/disputes/{dispute_id}/audit", response_model=list[AuditEntryView], responses=answers(403, 404),
            summary="本案的审计记录：谁查阅、做了什么（仅委员会主任）who read and changed the record")
def audit_log(seen: Annotated[Access, readable("read.audit")], uow: AuditedUow,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200,
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[AuditEntryView]:
    return [views.audit_entry(r) for r in access.audit_entries(uow.session, seen, limit, offset)]
