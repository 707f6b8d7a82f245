"""Events intake publishes. Ids, codes and states only: consumers look up personal data."""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

Urgency = Literal["一般", "紧急", "特急"]
MatterClass = Literal["大事", "小事", "私事"]
AppealType = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"]
Satisfaction = Literal["满意", "基本满意", "不满意"]
# The longest clock profile name intake's catalogue may request and routing's clocks may define: the
# columns that keep one (intake's cases, routing's routing_cases and work_orders) are sized by it.
CLOCK_PROFILE_MAX_LENGTH = 40


@event("intake.case.submitted", 1, subject=("case", "case_id"))
class CaseSubmitted(Payload):
    topic_fields = ("channel", "route")  # intake.case.submitted.v1.<channel>.<route> on the bus
    case_id: str
    case_no: str
    category: str
    channel: str
    urgency: Urgency = "一般"
    appeal_type: AppealType = "投诉"
    matter_class: MatterClass | None = None  # 三事 class of the category
    lat: float | None = None  # WGS-84
    lon: float | None = None
    reporter_id: str | None = None  # absent for anonymous reports
    confidential: bool = False  # 保密: handlers see the matter, not the person
    # dispatch: routing finds the owner; mediation: a dispute (see intake.case.referred);
    # consultation: a 小事 the residents settle themselves (selfgov's 议事), no work order;
    # direct: closed at intake, counted but not dispatched — `closed_as` says how
    route: Literal["dispatch", "mediation", "direct", "consultation"] = "dispatch"
    # A direct case: a question answered on the spot (answered) or what a grid worker settled on patrol
    # (self_resolved, 自办自结: the grid's statistics count these).
    closed_as: Literal["answered", "self_resolved"] | None = None
    submitted_at: datetime
    # the catalogue node's clock profile (general / utility / life_safety / complex / …), when known:
    # the category's side of the choice, not the choice. Routing puts the case on the stricter of it
    # and the urgency's profile (routing.clocks.profile_for), at dispatch and after every
    # urgency_changed, so it needs the category's own profile to return to when an urgency is lowered.
    clock_profile: str | None = None
    # 三事分流: True for a private matter (私事, the category's class), which the unit ends with guidance to
    # self-help or a market service rather than handling it as work; False otherwise; None when unknown
    # (routing then decides by matter_class itself).
    guidance: bool | None = None
    # 表扬: the unit the resident praises, by its unit code (the organisation's code, 15 digits by default),
    # when she named one; routing files the praise in that unit's record (else where its list sends it).
    praised_unit_code: str | None = None
    # A case that came from another platform (issue 13): "12345" for the city's hotline platform, its order
    # number and its deadline (routing's own clocks still decide). Notify writes the case's progress back to
    # the platform under that number.
    external_source: str | None = None
    external_no: str | None = None
    external_deadline: datetime | None = None
    # The caller's phone, sealed for notify alone (shared.keys data keys, context caller_phone_seal_context):
    # present ONLY when staff filed the case for a caller who consented, is not anonymous and has no resident
    # account as reporter (a resident with an account is told in the app). Notify texts her the progress.
    caller_phone_sealed: str | None = None


def caller_phone_seal_context(case_id: str) -> str:
    """The AES-GCM context of a CaseSubmitted's caller phone: it opens for that case only."""
    return f"intake-caller-phone:{case_id}"


@event("intake.case.supplemented", 1, subject=("case", "case_id"))
class CaseSupplemented(Payload):
    """The reporter (or staff) added material (补充)."""

    case_id: str
    case_no: str
    by_id: str | None = None
    attachment_count: int = 0
    at: datetime


@event("intake.case.withdrawn", 1, subject=("case", "case_id"))
class CaseWithdrawn(Payload):
    """The reporter withdrew the case before handling started (撤回)."""

    case_id: str
    case_no: str
    by_id: str | None = None
    at: datetime


@event("intake.case.reopened", 1, subject=("case", "case_id"))
class CaseReopened(Payload):
    """The reporter was not satisfied and reopened it: back to routing, to the same unit."""

    case_id: str
    case_no: str
    reporter_id: str | None = None
    previous_unit_id: str | None = None
    reason_code: str | None = None
    at: datetime


@event("intake.case.evaluated", 1, subject=("case", "case_id"))
class CaseEvaluated(Payload):
    """The callback evaluation (回访), or the record that none came in time."""

    case_id: str
    case_no: str
    work_order_id: str | None = None
    unit_id: str | None = None
    evaluated: bool = True  # False: no answer within the window (not evaluated, never "satisfied")
    contacted: bool | None = None
    solved: bool | None = None
    satisfaction: Satisfaction | None = None
    via: Literal["resident", "operator", "timeout"] = "resident"
    at: datetime


@event("intake.case.urgency_changed", 1, subject=("case", "case_id"))
class CaseUrgencyChanged(Payload):
    """Staff changed the urgency: routing re-times the open work order's clocks."""

    case_id: str
    case_no: str
    urgency: Urgency
    previous: Urgency
    by_id: str | None = None
    at: datetime


@event("intake.case.merged", 1, subject=("case", "child_case_id"))
class CaseMerged(Payload):
    """Staff merged a duplicate into a parent: the child follows the parent from now on."""

    child_case_id: str
    parent_case_id: str
    by_id: str | None = None
    at: datetime


@event("intake.case.joined", 1, subject=("case", "case_id"))
class CaseJoined(Payload):
    """Another resident joined an existing case (它也影响我) instead of filing a duplicate."""

    case_id: str
    user_id: str
    interest_count: int
    at: datetime


@event("intake.case.referred", 1, subject=("case", "case_id"))
class CaseReferred(Payload):
    """A dispute goes to people's mediation (a dispute category, or staff 转调解)."""

    case_id: str
    case_no: str
    category: str
    dispute_type: str | None = None  # mediation's type code, when known
    reporter_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    by_id: str | None = None
    at: datetime
