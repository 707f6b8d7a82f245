from fastapi import APIRouter

from shared.deps import SessionDep, Uow

from .. import views, webhooks
from ..schemas import WebhookIn, WebhookOut
from .deps import AdminUser, ConfigDep, ResolverDep, SubscriptionsDep, WebhookById

router = APIRouter(tags=["Webhook"])

ADMINS_ONLY = {403: {"description": "仅管理员 admins only"}}


@router.post("/webhooks", status_code=201,
             summary="订阅事件推送（政府系统对接）subscribe a government system to events",
             description="回调地址须为 https，主机在允许名单中（channels.json 的 webhook.allowed_hosts，空名单表示"
                         "不允许任何主机），且解析到的地址全部是公网地址；每次推送前重新解析并校验，只连接校验过的地址。"
                         "The URL must be https, its host on the allow-list (webhook.allowed_hosts; an empty list "
                         "allows none), every address it resolves to public; checked again at each delivery, "
                         "which connects to the address checked.",
             responses={**ADMINS_ONLY, 422: {"description": "notify.bad_url, notify.url_host_not_allowed, "
                                                            "notify.url_not_public, notify.url_unresolvable, "
                                                            "notify.bad_pattern, 或字段校验错误 or a field's check"}})
def create_webhook(body: WebhookIn, user: AdminUser, session: SessionDep, uow: Uow, cfg: ConfigDep,
                   subscriptions: SubscriptionsDep, resolve: ResolverDep) -> WebhookOut:
    hook, secret = webhooks.subscribe(session, cfg, subscriptions, resolve, body)
    uow.audit("notify.webhook.subscribed", subject_kind="webhook", subject_id=hook.id,
              detail={"event_patterns": body.event_patterns})
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
