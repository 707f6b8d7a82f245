from shared.service import ServiceSpec

from . import api, handlers, models

SPEC = ServiceSpec(
    name="intake",
    title="受理服务 Intake",
    description="诉求受理：各渠道提交诉求、查看进度。Cases from every channel and the resident's view of them.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    router=api.router,
    handlers=handlers.handlers,
)
