"""Notify's reactions to every intake, routing and mediation event: the rules say who hears
(audience.py), warned and overdue work orders are kept for the daily digest, and webhook
subscribers get every event their patterns match."""

from shared.events import Payload, registered
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from . import audience, digest, webhooks
from .config import config_of
from .messages import sender_wakeup

DIGEST_EVENTS = ("routing.case.warned", "routing.case.overdue")


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    wake, subscriptions = sender_wakeup(rt), webhooks.subscriptions_of(rt)

    def on_event(ctx: HandlerContext, payload: Payload) -> None:
        cfg = config_of(rt)
        audience.announce(ctx.session, ctx.emit, cfg, ctx.envelope, payload, wake)
        if payload.event_type in DIGEST_EVENTS:
            digest.collect(ctx.session, payload)
        webhooks.queue_event(ctx.session, cfg, subscriptions, ctx.envelope, wake)

    # A service's report that it saw an API key is for identity, not for people or webhooks.
    return {f"{etype}.v{version}": on_event for (etype, version) in registered()
            if etype.split(".", 1)[0] in ("intake", "routing", "mediation") and not etype.endswith(".api_key.used")}
