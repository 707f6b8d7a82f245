"""How selfgov reacts to intake's events: a 小事 case becomes a matter for consultation (三事分流: 小事 are
settled by the residents, seed 000), and its withdrawal ends a proposal nobody has taken up yet."""

from sqlalchemy import select

from shared.events.intake import CaseSubmitted, CaseWithdrawn
from shared.messaging.dispatcher import Handler, HandlerContext, only
from shared.runtime import ServiceRuntime

from . import config, directory, matters
from .models import Matter

# What the case says stays with intake (events carry ids and codes): the matter names the case and its
# category; the committee writes the proposal's words when it takes it up.
TITLE = "诉求 {case_no}（{category}）"
DESCRIPTION = "由“小事”诉求 {case_no} 转入居民议事；诉求内容见诉求服务。"


def residents_matter(event: CaseSubmitted) -> bool:
    # Which cases are the residents' is intake's decision (its catalogue routes a 小事 category to
    # `consultation`); routing dispatches no work order for them.
    return event.route in config.get().consultation.case_matters.routes


def on_case_submitted(ctx: HandlerContext, event: CaseSubmitted) -> None:
    """A residents' matter (the handler hears no other: `only(residents_matter, …)`)."""
    rule = config.get().consultation
    if ctx.session.scalar(select(Matter.id).where(Matter.case_id == event.case_id)):
        return  # already taken up (a redelivery with another message id)
    community = directory.community_at(ctx.session, event.lat, event.lon)
    street = community.parent_code if community else _only_street(ctx)
    if community is None and street is None:
        return  # nowhere to consult it (a point outside every community of a city of several streets)
    level = rule.level_for(event.category)
    if level == "building":  # the case names no building: its community consults it
        level = "community"
    matters.raise_matter(ctx.session, ctx.emit, community_code=community.code if community else None,
                         street_code=street, level=level, building=None,
                         title=TITLE.format(case_no=event.case_no, category=event.category),
                         description=DESCRIPTION.format(case_no=event.case_no), category=event.category,
                         source="case", raised_by=event.reporter_id, now=event.submitted_at, case_id=event.case_id,
                         case_no=event.case_no)


def _only_street(ctx: HandlerContext) -> str | None:
    """A case without a point in a community is consulted at the street when the deployment has one street."""
    streets = [a.code for a in directory.streets(ctx.session)]
    return streets[0] if len(streets) == 1 else None


def on_case_withdrawn(ctx: HandlerContext, event: CaseWithdrawn) -> None:
    matter = ctx.session.scalar(select(Matter).where(Matter.case_id == event.case_id).with_for_update())
    if matter is not None:
        matters.withdraw(ctx.session, ctx.emit, matter, event.at)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {"intake.case.submitted.v1": only(residents_matter, on_case_submitted),
            "intake.case.withdrawn.v1": on_case_withdrawn}
