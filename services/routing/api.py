"""Routing's REST API under /routing/v1."""

import json

from fastapi import APIRouter
from sqlalchemy import select

from shared.auth import CurrentUser, StaffUser
from shared.runtime import ServiceRuntime

from .models import Unit, WorkOrder


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.get("/grids", tags=["组织与网格 directory"], summary="网格列表（GeoJSON）grids as GeoJSON")
    def grids(user: CurrentUser) -> dict:
        with rt.uow() as session:
            rows = session.scalars(select(Unit).where(Unit.level == "grid").order_by(Unit.code)).all()
            parents = {u.id: u for u in session.scalars(
                select(Unit).where(Unit.id.in_({r.parent_id for r in rows if r.parent_id})))}
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": u.code,
                    "geometry": json.loads(u.geometry) if u.geometry else None,
                    "properties": {
                        "id": u.id, "code": u.code, "name": u.name, "name_en": u.name_en,
                        "households": u.households,
                        "parent_code": parents[u.parent_id].code if u.parent_id in parents else None,
                        "parent_name": parents[u.parent_id].name if u.parent_id in parents else None,
                    },
                }
                for u in rows
            ],
        }

    @api.get("/work-orders/mine", tags=["工单 work orders"], summary="我的工单 work orders assigned to me")
    def my_work_orders(user: StaffUser) -> list[dict]:
        with rt.uow() as session:
            rows = session.execute(
                select(WorkOrder, Unit.name).join(Unit, Unit.id == WorkOrder.unit_id)
                .where(WorkOrder.assignee_id == user.id).order_by(WorkOrder.created_at.desc()).limit(200)
            ).all()
        return [
            {"id": w.id, "case_id": w.case_id, "case_no": w.case_no, "status": w.status,
             "category": w.category, "urgency": w.urgency, "unit_name": unit_name, "rule": w.rule,
             "created_at": w.created_at}
            for w, unit_name in rows
        ]

    return api
