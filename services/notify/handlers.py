"""Notify's reactions to every intake, routing and mediation event: the rules say who hears
(audience.py), with what notify remembers of the case (cases.py: its urgency, followers, the
latest rating, a hotline caller's sealed phone), warned and overdue work orders are kept for the daily
digest, a case of the 12345 platform has its progress written back there (platform.py), and webhook
subscribers get every event their patterns and filters match. Identity's sign-in codes are sent by SMS
(codes.py), and its directory decides who is staff of which unit (directory.py)."""

from shared.events import Payload, registered
from shared.events.identity import CodeRequested, UserChanged
from shared.keys import data_keys
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from . import audience, cases, codes, digest, directory, platform, webhooks
from .config import config_of
from .messages import sender_wakeup

DIGEST_EVENTS = ("routing.case.warned", "routing.case.overdue")


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    wake, subscriptions = sender_wakeup(rt), webhooks.subscriptions_of(rt)
    keys = data_keys(rt.settings)
    secrets = cases.Secrets(keys, directory.index_of(rt))

    def on_event(ctx: HandlerContext, payload: Payload) -> None:
        cfg = config_of(rt)
        audience.announce(ctx.session, ctx.emit, cfg, ctx.envelope, payload, wake, secrets)
        if payload.event_type in DIGEST_EVENTS:
            digest.collect(ctx.session, payload)
        # After the rules: the case's facts (its order number, area, category) now include this event's.
        platform.queue_update(ctx.session, cfg, ctx.envelope, payload, wake)
        webhooks.queue_event(ctx.session, cfg, subscriptions, ctx.envelope, wake, payload)

    def on_code_requested(ctx: HandlerContext, payload: CodeRequested) -> None:
        codes.queue_code(ctx.session, ctx.emit, config_of(rt), keys, ctx.envelope, payload, wake)

    def on_user_changed(ctx: HandlerContext, e: UserChanged) -> None:
        directory.user_changed(ctx.session, config_of(rt).rules, user_id=e.user_id, role=e.role,
                               unit_codes=e.unit_codes, active=e.active)

    # A service's report that it saw an API key is for identity, not for people or webhooks.
    return {**{f"{etype}.v{version}": on_event for (etype, version) in registered()
               if etype.split(".", 1)[0] in ("intake", "routing", "mediation", "grid", "selfgov")
               and not etype.endswith(".api_key.used")},
            "identity.code.requested.v1": on_code_requested, "identity.user.changed.v1": on_user_changed}
