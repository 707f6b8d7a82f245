"""工作日历: the State Council's holiday notices (国务院办公厅关于某年部分节假日安排的通知) every
working-day clock counts on — which years are covered and the warning when one is not, a year's days,
the versions loaded, and loading a new one (issue 12)."""

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from shared.auth import StaffUser
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import access, notices, workcalendar
from .deps import FORBIDDEN

log = logging.getLogger(__name__)
router = APIRouter(tags=["工作日历 calendar"])

Year = Annotated[int, Query(ge=notices.FIRST_YEAR, le=notices.LAST_YEAR, examples=[2027],
                            description="年度 The year (2000 to 2099)")]
OptionalYear = Annotated[int | None, Query(ge=notices.FIRST_YEAR, le=notices.LAST_YEAR,
                                           description="只看该年度 Only this year's versions")]
INVALID = {422: {"description": "通知有误（日期超出年度、重复、重叠或矛盾），未保存 invalid: nothing saved"}}
CONFLICT = {409: {"description": "同一年度正由他人同时导入 someone is loading this year at the same time"}}


@router.get("/calendar", summary="工作日历状态：已覆盖的年度与预警 the years covered and the warning",
            responses=FORBIDDEN)
def calendar_status(user: StaffUser, session: SessionDep) -> dict:
    """Each year's source (`notice` loaded, `file` shipped, `package` chinesecalendar, `configuration`
    single days of calendar.json, `none`), and a `warning` when this year, or from 1 November the next
    one, has none: its working days are then counted Monday to Friday (see `policy`)."""
    return workcalendar.status(session)


@router.get("/calendar/days", summary="某年度的放假日与调休上班日 a year's days off and swapped working days",
            responses=FORBIDDEN)
def calendar_days(user: StaffUser, session: SessionDep, year: Year) -> dict:
    return workcalendar.year_view(workcalendar.official_days(session), year)


@router.get("/calendar/notices", summary="已导入的节假日通知各版本（谁、何时）every version loaded, by whom and when",
            responses=FORBIDDEN)
def notice_versions(user: StaffUser, session: SessionDep, year: OptionalYear = None) -> list[dict]:
    access.require_district_level(session, user)
    in_use = {row.id for row in notices.current(session).values()}
    return [{"year": row.year, "version": row.version, "current": row.id in in_use, "loaded_by": row.loaded_by,
             "loaded_at": row.loaded_at, "digest": row.digest, "notice": notices.parse(row).model_dump(mode="json")}
            for row in notices.versions(session, year)]


@router.post("/calendar/notices", status_code=201, responses={**FORBIDDEN, **INVALID, **CONFLICT},
             summary="导入某年度的国务院节假日安排（新版本；校验不通过则不保存）load a year's notice as a new version")
def load_notice(user: StaffUser, body: notices.Notice, uow: Uow) -> dict:
    """The body is the notice as data, the same JSON as a `data/holidays/YYYY.json` file (post the file
    as it is). Every date of the year is then classified: the holidays listed are days off, the swapped
    working days (调休上班) working days, every other day follows the weekday rule. Refused (422, every
    problem in `detail`, nothing saved): a date outside the year, a date or holiday listed twice,
    overlapping holidays, a swapped working day on a weekday or inside a holiday, a statutory holiday on
    a fixed date made a working day. The new version is used at once by every clock; the running clocks
    whose span reaches a day it changes are re-timed (`retimed_work_orders`)."""
    session = uow.session
    access.require_district_level(session, user)
    notices.check(body)
    before = workcalendar.official_days(session)
    previous = before.sources.get(body.year)
    now = utcnow()
    row = notices.store(session, body, user.id, now)
    after = workcalendar.build(session)
    workcalendar.use(session, after)
    changed = workcalendar.changed_days(before, after, body.year)
    retimed = workcalendar.retime(session, before, after, body.year, now, user.id,
                                  {"calendar_year": body.year, "calendar_version": row.version})
    same = previous is not None and notices.digest(previous.notice) == row.digest
    # No event: the trail says who loaded which version of which year, and what it moved.
    uow.audit("routing.calendar.loaded", subject_kind="calendar", subject_id=str(body.year),
              detail={"version": row.version, "digest": row.digest, "document_no": body.document_no,
                      "changed_days": len(changed), "retimed_work_orders": retimed})
    log.info("calendar: the notice of %s loaded as version %s by %s (%s days changed, %s work orders re-timed)",
             body.year, row.version, user.id, len(changed), retimed)
    return {"year": row.year, "version": row.version, "loaded_by": row.loaded_by, "loaded_at": row.loaded_at,
            "digest": row.digest, "same_as_previous": same, "changed_days": [d.isoformat() for d in changed],
            "retimed_work_orders": retimed}
