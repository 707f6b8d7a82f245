"""How the grid service reacts to intake's events: the cases grid workers file (channel grid_patrol).

自办自结 is counted from them: intake closes a grid worker's own handling at once (route "direct", closed_as
"self_resolved"); a question she answered on the spot is a finding, not 自办自结.
"""

from sqlalchemy.orm import Session

from shared.events.intake import CaseSubmitted
from shared.messaging.dispatcher import Handler, HandlerContext, only
from shared.runtime import ServiceRuntime
from shared.uow import Emit

from . import directory, patrols
from .models import GridReport


def filed_on_patrol(event: CaseSubmitted) -> bool:
    return event.channel == "grid_patrol"


def note_report(session: Session, emit: Emit, event: CaseSubmitted) -> None:
    """A case filed on patrol (the handler hears no other: `only(filed_on_patrol, …)`); a phone may have
    linked it to a patrol already (patrols.confirm)."""
    if session.get(GridReport, event.case_id) is not None:
        return
    report = GridReport(case_id=event.case_id, case_no=event.case_no, reporter_id=event.reporter_id,
                        grid_code=directory.grid_at(session, event.lat, event.lon),
                        self_resolved=event.closed_as == "self_resolved", submitted_at=event.submitted_at)
    session.add(report)
    session.flush()
    patrols.confirm(session, emit, report)


def on_case_submitted(ctx: HandlerContext, event: CaseSubmitted) -> None:
    note_report(ctx.session, ctx.emit, event)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {"intake.case.submitted.v1": only(filed_on_patrol, on_case_submitted)}
