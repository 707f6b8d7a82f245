"""考核: scores and rankings of a month, and the ledger export."""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response

from shared.auth import StaffUser
from shared.deps import SessionDep

from .. import access, directory, ledger, scores
from .deps import LedgerLimit

router = APIRouter(tags=["考核 scores"])


@router.get("/scores", summary="考核指标 rates and composite by unit/street/category")
def get_scores(user: StaffUser, session: SessionDep, period: str,
               group_by: Literal["unit", "street", "department", "category"] = "unit") -> dict:
    access.require_role(user, access.SCORE_READERS)
    scores.check_period(period)
    rows = scores.scores(session, period, group_by, within=access.scope_path(session, user))
    return {"period": period, "group_by": group_by, "rows": rows}


@router.get("/rankings", summary="月度排名 monthly ranking of streets or departments")
def rankings(user: StaffUser, session: SessionDep, period: str,
             level: Literal["street", "department"] = "street") -> dict:
    access.require_role(user, access.SCORE_READERS)
    scores.check_period(period)
    rows = scores.ranking(session, period, level, within=access.scope_path(session, user))
    return {"period": period, "level": level, "rows": rows}


@router.get("/ledger", summary="工单台账导出 export the ledger as CSV or XLSX")
def export_ledger(user: StaffUser, session: SessionDep, limit: LedgerLimit, format: str = "csv",
                  period: str | None = None, unit_code: str | None = None, status: str | None = None,
                  category: str | None = None) -> Response:
    access.require_role(user, access.SCORE_READERS)
    ledger.check_request(format, period)
    unit = directory.unit_by_code(session, unit_code) if unit_code else None
    out = ledger.export(session, format, period=period, unit_path=access.ledger_subtree(session, user, unit),
                        status=status, category=category, limit=limit)
    return Response(out.data, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"',
                             "X-Ledger-Truncated": "true" if out.truncated else "false"})
