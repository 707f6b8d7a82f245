from fastapi import APIRouter

from shared.deps import SessionDep

from .. import views, webhooks
from ..schemas import WebhookIn, WebhookOut
from .deps import AdminUser, ConfigDep, SubscriptionsDep, WebhookById

router = APIRouter(tags=["Webhook"])


@router.post("/webhooks", status_code=201,
             summary="订阅事件推送（政府系统对接）subscribe a government system to events")
def create_webhook(body: WebhookIn, user: AdminUser, session: SessionDep, cfg: ConfigDep,
                   subscriptions: SubscriptionsDep) -> WebhookOut:
    hook, secret = webhooks.subscribe(session, cfg, subscriptions, body)
    return views.webhook(hook, secret)


@router.get("/webhooks", summary="事件订阅列表 subscriptions")
def list_webhooks(user: AdminUser, session: SessionDep) -> list[WebhookOut]:
    return [views.webhook(w) for w in webhooks.listed(session)]


@router.delete("/webhooks/{hook_id}", status_code=204, summary="停用订阅 deactivate")
def delete_webhook(user: AdminUser, hook: WebhookById, session: SessionDep, subscriptions: SubscriptionsDep) -> None:
    webhooks.deactivate(session, subscriptions, hook)
