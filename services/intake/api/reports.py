"""报表: the figures leaders ask for, within the caller's area — a period's summary, hotspots for a
map, repeat requests, the top unresolved matters; each as JSON or a CSV/XLSX file."""

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from shared import exports, periods
from shared.deps import English, StaffUser, Uow
from shared.masking import mask_free_text
from shared.ratelimit import limit

from .. import access, reports
from ..schemas import RepeatView, SummaryReport, UnresolvedView
from .deps import answers

router = APIRouter(prefix="/reports", tags=["报表 reports"])

GEOJSON = "application/geo+json"
Format = Literal["json", "csv", "xlsx"]
PeriodQuery = Annotated[str, Query(min_length=4, max_length=7, pattern=periods.PATTERN, examples=periods.EXAMPLES,
                                   description=periods.DESCRIPTION)]
CategoryQuery = Annotated[str | None, Query(max_length=64, description="类别编码前缀 a category code prefix")]
FormatQuery = Annotated[Format, Query(description="json（默认）、csv 或 xlsx the answer's format")]


def files(json_schema: dict | None = None, extra: dict | None = None) -> dict:
    content = {"text/csv": {"schema": {"type": "string"}},
               exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}, **(extra or {})}
    return {200: {"description": "报表；format=csv/xlsx 时为文件 the report, or a file", "content": content},
            **answers(403)}


def period_of(label: str) -> periods.Period:
    return periods.parse(label, "report.bad_period")


def as_file(uow: Uow, name: str, fmt: str, period: str, table: tuple[list[str], list[list]], detail: dict) -> Response:
    headers, rows = table
    # Every export on the trail, as routing's ledger: what was asked and how many rows left.
    uow.audit("export.report", subject_kind="report", subject_id=name,
              detail={"format": fmt, "period": period, "rows": len(rows), **detail})
    return Response(exports.table(fmt, name, headers, rows), media_type=exports.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}-{period}.{fmt}"'})


@router.get("/summary", response_model=SummaryReport, responses=files(),
            dependencies=[limit("report.read", "120/hour", per="user")],
            summary="统计期汇总：受理、办结、按期、满意，按街道/社区/类别等分组 a period's figures",
            description="只统计您辖区内的诉求（管理员为全部）。月、季度、半年、年度均可；率的分母为 0 时为 null。")
def summary(user: StaffUser, uow: Uow, period: PeriodQuery,
            group_by: Annotated[Literal[reports.GROUPS], Query(description="分组方式 group by")] = "street",
            format: FormatQuery = "json"):
    access.check_report_reader(user)
    rows = reports.summary(uow.session, user, period_of(period), group_by)
    if format != "json":
        return as_file(uow, "summary", format, period, reports.summary_table(rows), {"group_by": group_by})
    return {"period": period, "group_by": group_by, "rows": rows}


@router.get("/hotspots", responses=files(extra={GEOJSON: {"schema": {"type": "object"}}}),
            dependencies=[limit("report.read", "120/hour", per="user")],
            summary="热点：按网格单元、类别和月份计数（GeoJSON）hotspots for a map",
            description="返回 GeoJSON FeatureCollection（WGS-84）：每个要素是一个重复索引网格单元，"
                        "属性含件数、各类别件数和各月件数，按件数降序取前 limit 个。format=csv/xlsx 为表格。")
def hotspots(user: StaffUser, uow: Uow, period: PeriodQuery, category: CategoryQuery = None,
             limit_cells: Annotated[int, Query(alias="limit", ge=1, le=2000, description="最多单元数")] = 200,
             format: Annotated[Literal["geojson", "csv", "xlsx"], Query(description="geojson（默认）、csv 或 xlsx")]
             = "geojson"):
    access.check_report_reader(user)
    collection = reports.hotspots(uow.session, user, period_of(period), category, limit_cells)
    if format != "geojson":
        return as_file(uow, "hotspots", format, period, reports.hotspot_table(collection),
                       {"category": mask_free_text(category)})
    return Response(json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode(), media_type=GEOJSON)


@router.get("/repeats", response_model=list[RepeatView], responses=files(),
            dependencies=[limit("report.read", "120/hour", per="user")],
            summary="重复诉求：同一地点或同一反映人的同类诉求 repeat requests",
            description="统计期内、相邻两次间隔不超过 window_days 天、至少 minimum 次的同类诉求。"
                        "同一反映人以诉求编号列出，不显示反映人信息；匿名诉求不计入同一反映人。")
def repeats(user: StaffUser, uow: Uow, period: PeriodQuery,
            window_days: Annotated[int, Query(ge=1, le=366, description="窗口天数 the window")] = 30,
            minimum: Annotated[int, Query(ge=2, le=100, description="至少次数 at least")] = 2,
            limit_rows: Annotated[int, Query(alias="limit", ge=1, le=1000, description="最多条数")] = 100,
            format: FormatQuery = "json"):
    access.check_report_reader(user)
    rows = reports.repeats(uow.session, user, period_of(period), window_days, minimum, limit_rows)
    if format != "json":
        return as_file(uow, "repeats", format, period, reports.repeat_table(rows),
                       {"window_days": window_days, "minimum": minimum})
    return rows


@router.get("/unresolved", response_model=list[UnresolvedView], responses=files(),
            dependencies=[limit("report.read", "120/hour", per="user")],
            summary="未解决的突出问题：关注人数、重启次数、时长排序 the top unresolved matters",
            description="您辖区内仍在办理的诉求，按关注人数、重启次数、受理时间排序。")
def unresolved(user: StaffUser, uow: Uow, english: English, category: CategoryQuery = None,
               limit_rows: Annotated[int, Query(alias="limit", ge=1, le=500, description="最多条数")] = 20,
               format: FormatQuery = "json"):
    access.check_report_reader(user)
    rows = reports.unresolved(uow.session, user, category, limit_rows, english)
    if format != "json":
        return as_file(uow, "unresolved", format, "now", reports.unresolved_table(rows),
                       {"category": mask_free_text(category)})
    return rows


@router.get("/ledger", response_class=Response, responses=files(),
            dependencies=[limit("report.read", "120/hour", per="user")],
            summary="月度台账：咨询当场答复、网格员自办自结 the monthly ledgers (CSV/XLSX)",
            description="统计期内您辖区的诉求，每件一行，不含反映人信息和描述。kind=consultations 咨询当场答复，"
                        "kind=self_resolved 网格员自办自结。最多 limit 行。")
def ledger(user: StaffUser, uow: Uow, period: PeriodQuery,
           kind: Annotated[Literal[tuple(reports.LEDGER_KINDS)], Query(description="台账种类 which ledger")],
           limit_rows: Annotated[int, Query(alias="limit", ge=1, le=100_000, description="最多行数")] = 50_000,
           format: Annotated[Literal["csv", "xlsx"], Query(description="csv（默认）或 xlsx")] = "csv"):
    access.check_report_reader(user)
    rows = reports.ledger(uow.session, user, period_of(period), kind, limit_rows)
    return as_file(uow, f"ledger-{kind}", format, period, (reports.LEDGER_HEADERS, rows), {"kind": kind})
