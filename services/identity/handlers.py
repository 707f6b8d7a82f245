"""How identity follows other services' events: the last use of each API key they accepted."""

from shared.events.identity import API_KEY_USED, ApiKeyUsed
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from .api_keys import record_use


def on_api_key_used(ctx: HandlerContext, event: ApiKeyUsed) -> None:
    record_use(ctx.session, event.key_id, event.at)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {f"{payload.event_type}.v1": on_api_key_used for payload in API_KEY_USED.values()}
