import threading

from shared.keys import blind_index, data_keys
from shared.runtime import ServiceRuntime
from shared.service import ServiceSpec

from . import access, api, cases, config, handlers, models, seed
from .digest import run_daily


def background(rt: ServiceRuntime, stop: threading.Event) -> None:
    """The worker's sender loop and the daily digest."""
    from .sender import Sender  # imported here: API processes never send

    threading.Thread(target=run_daily, args=(rt, stop), name="notify-digest", daemon=True).start()
    sender = Sender(rt)
    try:
        sender.run(stop)
    finally:
        sender.close()


SPEC = ServiceSpec(
    name="notify",
    title="通知服务 Notify",
    description="把结果告诉该知道的人：站内信、短信、微信订阅消息、推送、邮件、Webhook。Telling people.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    auth=models.auth,
    audit=models.audit,
    audit_scope=access.audit_scope,  # who reads which entries of the trail
    router=api.router,
    handlers=handlers.handlers,
    preload=cases.preload_batch,
    config=config.get,
    seed=seed.seed,
    background=background,
    # Sign-in codes arrive sealed (identity.code.requested), contact details are sealed at rest and a
    # phone is found by its blind index: without either key, no start in services mode.
    keys=(data_keys, blind_index),
)
