"""考核: scores and rankings of a month, and the ledger export."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from shared.auth import StaffUser
from shared.deps import SessionDep, Uow
from shared.masking import mask_free_text
from shared.ratelimit import limit

from .. import access, config, directory, ledger, scores
from ..models import STATUSES
from ..schemas import STATUS, RankingView, ScoresView
from .deps import FORBIDDEN, LedgerLimit, Period

router = APIRouter(tags=["考核 scores"])

LEDGER_TYPES = {
    "text/csv": {"schema": {"type": "string"}},
    ledger.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
}
LEDGER = {
    200: {"description": "台账文件（CSV 或 XLSX，见 format）；X-Ledger-Truncated 为 true 时有行被截去 the ledger "
                         "as a file; X-Ledger-Truncated says whether rows were left out",
          "content": LEDGER_TYPES,
          "headers": {"X-Ledger-Truncated": {"schema": {"type": "string", "enum": ["true", "false"]},
                                             "description": "是否超出行数上限被截断 whether the limit cut rows"},
                      "Content-Disposition": {"schema": {"type": "string"}, "description": "文件名 the file name"}}},
    403: {"description": "当前角色无权导出，或所选单位不在您的管辖范围内 this role may not export, or the unit "
                         "is outside your scope"},
}


@router.get("/scores", response_model=ScoresView, response_model_exclude_unset=True,
            summary="考核指标（任一统计期）rates and composite by unit/street/category for a period",
            responses=FORBIDDEN)
def get_scores(user: StaffUser, session: SessionDep, period: Period,
               group_by: Literal["unit", "street", "department", "category"] = "unit") -> dict:
    access.require_role(user, access.SCORE_READERS)
    scores.check_period(period)
    rows = scores.scores(session, period, group_by, within=access.subtrees(session, user))
    return {"period": period, "group_by": group_by, "rows": rows}


@router.get("/rankings", response_model=RankingView,
            summary="排名（月、季、半年、年）ranking of streets or departments for a period",
            responses=FORBIDDEN)
def rankings(user: StaffUser, session: SessionDep, period: Period,
             level: Literal["street", "department"] = "street") -> dict:
    access.require_role(user, access.SCORE_READERS)
    scores.check_period(period)
    rows = scores.ranking(session, period, level, within=access.subtrees(session, user))
    # Units with fewer scored orders are listed after the ranked ones, `rank` null.
    return {"period": period, "level": level, "min_scored_orders": config.get().scoring.min_scored_orders,
            "rows": rows}


@router.get("/ledger", summary="工单台账导出 export the ledger as CSV or XLSX", response_class=Response,
            responses=LEDGER, dependencies=[limit("ledger.export", "20/hour", per="user", counts="done")])
def export_ledger(user: StaffUser, uow: Uow, limit: LedgerLimit,
                  format: Annotated[str, Query(max_length=8, description="csv 或 xlsx",
                                               json_schema_extra={"enum": list(ledger.MEDIA_TYPES)})] = "csv",
                  period: Annotated[Period | None, Query()] = None,
                  unit_code: Annotated[str | None, Query(max_length=32, description="单位编码（含下级）")] = None,
                  status: Annotated[Literal[STATUSES] | None, Query(description=STATUS)] = None,
                  category: Annotated[str | None, Query(max_length=64, description="类别前缀")] = None,
                  ) -> Response:
    access.require_role(user, access.LEDGER_READERS)
    ledger.check_request(format, period)
    session = uow.session
    unit = directory.unit_by_code(session, unit_code) if unit_code else None
    out = ledger.export(session, format, period=period, unit_path=access.ledger_subtree(session, user, unit),
                        status=status, category=category, limit=limit,
                        personal_text=user.role in access.PERSONAL_TEXT_READERS)
    # Every export on the trail: its filters (codes; anything typed masked) and how many rows left.
    uow.audit("export.ledger", subject_kind="unit", subject_id=unit.code if unit else None, detail={
        "format": format, "period": period, "unit_code": unit_code, "status": mask_free_text(status),
        "category": mask_free_text(category), "limit": limit, "rows": out.rows, "truncated": out.truncated})
    return Response(out.data, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"',
                             "X-Ledger-Truncated": "true" if out.truncated else "false"})
