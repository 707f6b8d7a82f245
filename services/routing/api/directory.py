"""组织与网格: grids, units, locating a point, who is on duty."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.auth import CurrentUser, StaffUser
from shared.deps import SessionDep

from .. import access, directory, views
from ..schemas import DutyBody
from .deps import GridIndex, StaffMember

router = APIRouter(tags=["组织与网格 directory"])


@router.get("/grids", summary="网格列表（GeoJSON）grids as GeoJSON")
def grids(user: CurrentUser, session: SessionDep) -> dict:
    return views.grids(*directory.grids(session))


@router.get("/units", summary="单位列表 units (filter by level or parent)")
def units(user: StaffUser, session: SessionDep, level: str | None = None,
          parent_code: str | None = None) -> list[dict]:
    return [views.unit(u) for u in directory.units(session, level, parent_code)]


@router.get("/locate", summary="按坐标定位网格 which units contain a point (WGS-84)")
def locate(user: StaffUser, lat: Annotated[float, Query(ge=-90, le=90)],
           lon: Annotated[float, Query(ge=-180, le=180)], grid_index: GridIndex) -> list[dict]:
    return [views.located(hit) for hit in grid_index.locate(lon, lat)]


@router.put("/staff/{user_id}/duty", summary="设置在岗状态 set on/off duty")
def set_duty(user: StaffUser, staff: StaffMember, body: DutyBody, session: SessionDep) -> dict:
    access.require_duty_setter(session, user, staff)
    directory.set_duty(staff, body.on_duty)
    return views.duty(staff)
