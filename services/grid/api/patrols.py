"""Patrols: start, track points, findings, finish; one patrol; a grid's day against the rule (一日双巡)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from shared.deps import CurrentUser, Uow
from shared.fields import Day

from .. import access, patrols, views, writes
from ..models import Patrol
from ..schemas import DayView, FindingsIn, PatrolFinish, PatrolPoints, PatrolStart, PatrolView
from .deps import IdempotencyKey, answered, answers

router = APIRouter(tags=["巡查 patrols"])
PatrolId = Annotated[str, Path(max_length=36, description="巡查 id")]


@router.post("/patrols", status_code=201, response_model=PatrolView, responses=answers(400, 403, 409),
             summary="开始巡查（可带首批轨迹点）start a patrol",
             description="网格员本人在负责的网格开始巡查。client_at 为手机上的开始时间；"
                         "轨迹点须注明坐标系（微信为 gcj02）。"
                         "带 Idempotency-Key 重放返回首次应答。")
def start_patrol(body: PatrolStart, user: CurrentUser, uow: Uow, key: IdempotencyKey = None):
    return answered(*writes.run(uow, user, "patrol.start", key, None, body)[:2])


@router.post("/patrols/{patrol_id}/points", response_model=PatrolView, responses=answers(400, 403, 404, 409),
             summary="补传轨迹点 add track points")
def add_points(patrol_id: PatrolId, body: PatrolPoints, user: CurrentUser, uow: Uow, key: IdempotencyKey = None):
    return answered(*writes.run(uow, user, "patrol.points", key, patrol_id, body)[:2])


@router.post("/patrols/{patrol_id}/findings", response_model=PatrolView, responses=answers(400, 403, 404, 409),
             summary="关联巡查发现（已上报的诉求，含自办自结）attach findings")
def add_findings(patrol_id: PatrolId, body: FindingsIn, user: CurrentUser, uow: Uow, key: IdempotencyKey = None):
    return answered(*writes.run(uow, user, "patrol.findings", key, patrol_id, body)[:2])


@router.post("/patrols/{patrol_id}/finish", response_model=PatrolView, responses=answers(400, 403, 404, 409),
             summary="结束巡查（可带最后一批轨迹点）finish a patrol")
def finish_patrol(patrol_id: PatrolId, body: PatrolFinish, user: CurrentUser, uow: Uow, key: IdempotencyKey = None):
    return answered(*writes.run(uow, user, "patrol.finish", key, patrol_id, body)[:2])


@router.get("/patrols/{patrol_id}", response_model=PatrolView, responses=answers(404),
            summary="一次巡查及其轨迹 a patrol and its track")
def get_patrol(patrol_id: PatrolId, user: CurrentUser, uow: Uow) -> PatrolView:
    return views.patrol(uow.session, access.readable_patrol(uow, user, patrol_id, "read.patrol"), with_track=True)


@router.get("/grids/{grid_code}/days/{day}", response_model=DayView, responses=answers(404),
            summary="网格某日巡查情况（对照一日双巡）a grid's day against the patrol rule")
def grid_day(grid_code: Annotated[str, Path(max_length=32, description="网格代码")],
             day: Annotated[Day, Path(description="日期（当地）YYYY-MM-DD，2000—2100 年")], user: CurrentUser,
             uow: Uow) -> DayView:
    grid = access.readable_grid(uow, user, grid_code, "read.grid_day")
    access.audit(uow, "read.grid_day", True, "grid", grid.code, day=day.isoformat())
    return views.day(uow.session, patrols.day_summary(uow.session, grid, day.isoformat()))


@router.get("/patrols", response_model=list[PatrolView], responses=answers(403),
            summary="巡查列表（本辖区）patrols in my area")
def list_patrols(user: CurrentUser, uow: Uow,
                 grid_code: Annotated[str | None, Query(max_length=32, description="网格代码")] = None,
                 day: Annotated[Day | None, Query(description="日期（当地），2000—2100 年")] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[PatrolView]:
    sight = access.area_reader(uow, user, "read.patrols")
    query = select(Patrol).where(access.grid_filter(sight, Patrol.grid_code))
    if grid_code:
        query = query.where(Patrol.grid_code == grid_code)
    if day:
        query = query.where(Patrol.day == day.isoformat())
    rows = list(uow.session.scalars(query.order_by(Patrol.started_at.desc(), Patrol.id).limit(limit).offset(offset)))
    access.audit(uow, "read.patrols", True, count=len(rows))
    return [views.patrol(uow.session, p) for p in rows]
