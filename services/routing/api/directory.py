"""组织与网格: grids, units, locating a point, who is on duty."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.auth import CurrentUser, StaffUser
from shared.deps import SessionDep, Uow

from .. import access, directory, views
from ..schemas import DutyBody
from .deps import FORBIDDEN, GridIndex, StaffMember

router = APIRouter(tags=["组织与网格 directory"])
DUTY = {**FORBIDDEN, 404: {"description": "工作人员不存在或不在您的管辖范围内 no such staff member in your scope"}}


@router.get("/grids", summary="网格列表（GeoJSON）grids as GeoJSON")
def grids(user: CurrentUser, session: SessionDep) -> dict:
    return views.grids(*directory.grids(session))


@router.get("/units", summary="单位列表 units (filter by level or parent)", responses=FORBIDDEN)
def units(user: StaffUser, session: SessionDep,
          level: Annotated[str | None, Query(max_length=20, description="层级 district/street/grid/…")] = None,
          parent_code: Annotated[str | None, Query(max_length=32, description="上级单位编码 The parent's code")] = None,
          ) -> list[dict]:
    return [views.unit(u) for u in directory.units(session, level, parent_code)]


@router.get("/locate", summary="按坐标定位网格 which units contain a point (WGS-84)", responses=FORBIDDEN)
def locate(user: StaffUser, lat: Annotated[float, Query(ge=-90, le=90)],
           lon: Annotated[float, Query(ge=-180, le=180)], grid_index: GridIndex) -> list[dict]:
    return [views.located(hit) for hit in grid_index.locate(lon, lat)]


@router.put("/staff/{user_id}/duty", summary="设置在岗状态 set on/off duty", responses=DUTY)
def set_duty(user: StaffUser, staff: StaffMember, body: DutyBody, uow: Uow) -> dict:
    access.require_duty_setter(uow.session, user, staff)
    directory.set_duty(staff, body.on_duty)
    # Who gets new work changed, without an event: the trail says who changed whose duty.
    uow.audit("routing.staff.duty_changed", subject_kind="staff", subject_id=staff.user_id,
              detail={"on_duty": body.on_duty})
    return views.duty(staff)
