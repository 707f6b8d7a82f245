from shared.service import ServiceSpec

from . import api, handlers, models

SPEC = ServiceSpec(
    name="notify",
    title="通知服务 Notify",
    description="把结果告诉该知道的人：站内信、短信、微信订阅消息、推送、邮件、Webhook。Telling people.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    router=api.router,
    handlers=handlers.handlers,
)
