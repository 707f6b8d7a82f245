from typing import Annotated

from fastapi import APIRouter, Path, Query

from shared.audit import safe_id
from shared.deps import Uow

from .. import platform, views
from ..schemas import PlatformUpdateState
from .deps import AdminUser, ConfigDep, SenderWakeup

router = APIRouter(tags=["12345 平台回写 platform write-back"])

ADMINS_ONLY = {403: {"description": "仅管理员 admins only"}}
OrderNo = Annotated[str, Path(min_length=1, max_length=100, description="12345 工单编号 the platform's order number")]
UpdateId = Annotated[str, Path(min_length=1, max_length=64, description="回写编号 the write-back's id (X-Nonce)")]


@router.get("/admin/platform/orders/{order_no}/updates",
            summary="某12345工单的回写记录：状态、尝试次数、最近错误（管理员）the write-backs of a 12345 order",
            description="按发送顺序（事件发生时间）排列；没有回写的工单答空列表。每次读取记入审计"
                        "（read.platform_updates）。In the order they are sent (when each event happened); an order "
                        "with no write-back is an empty list. Each reading is an audit entry.",
            responses=ADMINS_ONLY)
def order_updates(user: AdminUser, order_no: OrderNo, uow: Uow, cfg: ConfigDep,
                  limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[PlatformUpdateState]:
    rows = platform.log_of(uow.session, cfg.platform, order_no, limit)
    # The order number is not personal data, but the parameter is whatever the caller typed.
    uow.audit("read.platform_updates", subject_kind="platform_order", subject_id=safe_id(order_no),
              detail={"count": len(rows)})
    return [views.platform_update(row) for row in rows]


@router.post("/admin/platform/updates/{update_id}/resend",
             summary="重发一条回写（回写编号不变，仍按工单顺序发送）re-send a write-back",
             description="平台丢失或曾拒收时使用：从第一次尝试重新开始，编号（X-Nonce）不变；同一工单中排在它之后、"
                         "尚未发出的回写等它发出或放弃后再发。For a write-back the platform lost or refused: sent "
                         "again from its first attempt with the same X-Nonce; later ones of the order not yet sent "
                         "wait for it.",
             responses={**ADMINS_ONLY, 404: {"description": "没有这条回写 no such write-back"},
                        409: {"description": "仍在排队或发送中 notify.delivery_pending；未开通平台回写 "
                                             "notify.platform_off"}})
def resend_update(user: AdminUser, update_id: UpdateId, uow: Uow, cfg: ConfigDep,
                  wake: SenderWakeup) -> PlatformUpdateState:
    m = platform.update_of(uow.session, update_id)
    platform.resend(uow.session, cfg, m, wake)
    uow.audit("notify.platform.update_resent", subject_kind="message", subject_id=m.id,
              detail={"event_id": m.event_id, "event_type": m.template})
    return views.platform_update(platform.log_entry(uow.session, m.id))
