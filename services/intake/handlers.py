"""How intake follows other services' events."""

from shared.db import utcnow
from shared.events.routing import CaseDispatched
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from .cases import add_timeline
from .models import Case


class CaseMissing(Exception):
    """An event for a case intake does not have: retried, then dead-lettered."""


def on_dispatched(ctx: HandlerContext, event: CaseDispatched) -> None:
    case = ctx.session.get(Case, event.case_id, with_for_update=True)
    if case is None:
        raise CaseMissing(event.case_id)
    if event.seq <= case.routing_seq:
        return  # stale or repeated: never move a case backwards
    case.status = "dispatched"
    case.unit_id, case.unit_name = event.unit_id, event.unit_name
    case.routing_seq = event.seq
    case.updated_at = utcnow()
    add_timeline(ctx.session, case.id, "dispatched", f"已派单：由{event.unit_name}办理", at=event.at)
    add_timeline(ctx.session, case.id, "dispatch_rule", f"派单依据：{event.rule}", public=False,
                 at=event.at)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {"routing.case.dispatched.v1": on_dispatched}
