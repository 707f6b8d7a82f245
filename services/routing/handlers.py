"""How routing reacts to other services' events."""

from shared.events.intake import CaseSubmitted
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from .dispatch import dispatch_new_case
from .locator import Locator


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    def locator(ctx: HandlerContext) -> Locator:
        if "locator" not in rt.cache:
            rt.cache["locator"] = Locator.load(ctx.session)
        return rt.cache["locator"]

    def on_submitted(ctx: HandlerContext, event: CaseSubmitted) -> None:
        dispatched = dispatch_new_case(ctx.session, locator(ctx), event)
        if dispatched is not None:
            ctx.emit(dispatched)

    return {"intake.case.submitted.v1": on_submitted}
