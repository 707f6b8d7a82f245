from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from shared.deps import SessionDep, Uow

from .. import views, webhooks
from ..schemas import WebhookDelivery, WebhookIn, WebhookOut
from .deps import AdminUser, ConfigDep, ResolverDep, SenderWakeup, SubscriptionsDep, WebhookById

router = APIRouter(tags=["Webhook"])

ADMINS_ONLY = {403: {"description": "仅管理员 admins only"}}


@router.post("/webhooks", status_code=201,
             summary="订阅事件推送（政府系统对接）subscribe a government system to events",
             description="回调地址须为 https，主机在允许名单中（channels.json 的 webhook.allowed_hosts，空名单表示"
                         "不允许任何主机），且解析到的地址全部是公网地址；每次推送前重新解析并校验，只连接校验过的地址。"
                         "可按区域（单位代码前缀）和类别（类别代码前缀）过滤。"
                         "The URL must be https, its host on the allow-list (webhook.allowed_hosts; an empty list "
                         "allows none), every address it resolves to public; checked again at each delivery, "
                         "which connects to the address checked. Optional filters by area (unit code prefixes) "
                         "and category (catalogue code prefixes).",
             responses={**ADMINS_ONLY, 422: {"description": "notify.bad_url, notify.url_host_not_allowed, "
                                                            "notify.url_not_public, notify.url_unresolvable, "
                                                            "notify.bad_pattern, notify.bad_area, notify.bad_category, "
                                                            "或字段校验错误 or a field's check"}})
def create_webhook(body: WebhookIn, user: AdminUser, session: SessionDep, uow: Uow, cfg: ConfigDep,
                   subscriptions: SubscriptionsDep, resolve: ResolverDep) -> WebhookOut:
    hook, secret = webhooks.subscribe(session, cfg, subscriptions, resolve, body)
    uow.audit("notify.webhook.subscribed", subject_kind="webhook", subject_id=hook.id,
              detail={"event_patterns": body.event_patterns, "areas": body.areas, "categories": body.categories})
    return views.webhook(hook, secret)


@router.get("/webhooks", summary="事件订阅列表 subscriptions", responses=ADMINS_ONLY)
def list_webhooks(user: AdminUser, session: SessionDep) -> list[WebhookOut]:
    return [views.webhook(w) for w in webhooks.listed(session)]


@router.delete("/webhooks/{hook_id}", status_code=204, summary="停用订阅 deactivate",
               responses={**ADMINS_ONLY, 404: {"description": "没有这个订阅 no such subscription"}})
def delete_webhook(user: AdminUser, hook: WebhookById, session: SessionDep, uow: Uow,
                   subscriptions: SubscriptionsDep) -> None:
    was_active = hook.active
    webhooks.deactivate(session, subscriptions, hook)
    uow.audit("notify.webhook.deactivated", subject_kind="webhook", subject_id=hook.id,
              detail={"was_active": was_active})


DeliveryId = Annotated[str, Path(min_length=1, max_length=64, description="投递编号 the delivery id (X-CG-Delivery)")]
NOT_FOUND = {404: {"description": "没有这个订阅或这次投递 no such subscription or delivery of it"}}


@router.get("/webhooks/{hook_id}/deliveries",
            summary="订阅的投递记录：状态、尝试次数、最近错误、时间（管理员）a subscription's deliveries",
            description="最新在前；可按状态筛选。每次读取记入审计（read.webhook_deliveries）。Newest first; "
                        "filter by status. Each reading is an audit entry.",
            responses={**ADMINS_ONLY, 404: {"description": "没有这个订阅 no such subscription"}})
def webhook_deliveries(user: AdminUser, hook: WebhookById, uow: Uow,
                       status: Annotated[Literal["queued", "sending", "sent", "failed", "suppressed"] | None,
                                         Query(description="只看该状态 only this status")] = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[WebhookDelivery]:
    rows = webhooks.deliveries(uow.session, hook, status, limit)
    uow.audit("read.webhook_deliveries", subject_kind="webhook", subject_id=hook.id, detail={"count": len(rows)})
    return [views.webhook_delivery(m) for m in rows]


@router.post("/webhooks/{hook_id}/deliveries/{delivery_id}/resend",
             summary="重发一次投递（投递编号不变）re-send a delivery, with its delivery id",
             description="对方丢失或曾拒收（如签名密钥配置错误已修正）时使用：从第一次尝试重新开始。投递编号（X-CG-Delivery）"
                         "不变，接收方可据此去重。For a delivery the receiver lost or refused (e.g. a secret fixed "
                         "since): sent again from its first attempt, with the same X-CG-Delivery.",
             responses={**ADMINS_ONLY, **NOT_FOUND,
                        409: {"description": "仍在排队或发送中 notify.delivery_pending；订阅已停用 "
                                             "notify.webhook_inactive"}})
def resend_delivery(user: AdminUser, hook: WebhookById, delivery_id: DeliveryId, uow: Uow,
                    wake: SenderWakeup) -> WebhookDelivery:
    m = webhooks.delivery_of(uow.session, hook, delivery_id)
    webhooks.resend(uow.session, hook, m, wake)
    uow.audit("notify.webhook.delivery_resent", subject_kind="message", subject_id=m.id,
              detail={"webhook": hook.id, "event_id": m.event_id})
    return views.webhook_delivery(m)
