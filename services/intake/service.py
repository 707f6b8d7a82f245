"""What the runner needs to serve intake: its API, its reactions to routing's and mediation's
events, its configuration (validated at start-up), the evaluation-timeout scan and retention."""

import threading

from shared.background import every
from shared.runtime import ServiceRuntime
from shared.service import ServiceSpec

from . import access, api, config, evaluation, handlers, models, open311, retention

SCAN_BATCH = 200


def background(rt: ServiceRuntime, stop: threading.Event) -> None:
    """Record "not evaluated" for cases whose callback window passed (see evaluation.expire_evaluations);
    beside it, remove personal data past its retention period and uploads no case took (retention.py)."""
    rules = config.get().retention
    threading.Thread(target=every, args=(rules.scan_interval_seconds, lambda: retention.run(rt), stop),
                     kwargs={"name": "intake retention", "full_batch": rules.batch}, name="intake-retention",
                     daemon=True).start()
    every(config.get().evaluation.scan_interval_seconds, lambda: evaluation.expire_due(rt, limit=SCAN_BATCH), stop,
          name="evaluation timeout scan", full_batch=SCAN_BATCH)


SPEC = ServiceSpec(
    name="intake",
    title="受理服务 Intake",
    description="诉求受理：各渠道提交诉求、重复诉求、居民查看进度、补充、撤回、重启、回访评价；类别目录管理。"
                "Cases from every channel, duplicates, the resident's view and callback evaluation.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    auth=models.auth,
    audit=models.audit,
    audit_scope=access.audit_scope,  # who reads which entries of the trail
    refusal_conceals=access.refusal_conceals,  # a resident refused on her own anonymous case: her pseudonym
    router=api.router,
    handlers=handlers.handlers,
    preload=handlers.preload_batch,
    config=config.get,
    background=background,
    also_serves=("/open311",),  # Open311 GeoReport v2 for government systems (open311/, docs/interop.md)
    extend_app=open311.serve,
)
