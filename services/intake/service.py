import logging
import threading

from shared.db import utcnow
from shared.service import ServiceSpec

from . import api, cases, handlers, models
from .policy import policy

log = logging.getLogger(__name__)


def background(rt, stop: threading.Event) -> None:
    """Record "not evaluated" for cases whose callback window passed (see cases.expire_evaluations)."""
    while not stop.wait(policy()["evaluation"]["scan_interval_seconds"]):
        try:
            while True:
                with rt.uow() as session:
                    done = cases.expire_evaluations(session, rt.outbox, utcnow())
                if done < 200:
                    break
        except Exception as exc:  # keep scanning; the next round retries
            log.warning("evaluation scan failed: %s", type(exc).__name__)


SPEC = ServiceSpec(
    name="intake",
    title="受理服务 Intake",
    description="诉求受理：各渠道提交诉求、重复诉求、居民查看进度、补充、撤回、重启、回访评价；类别目录管理。"
                "Cases from every channel, duplicates, the resident's view and callback evaluation.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    router=api.router,
    handlers=handlers.handlers,
    background=background,
)
