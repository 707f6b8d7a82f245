"""Events routing publishes about work orders (工单).

Every event carries the work order's `seq`, which increases with each change routing makes
to it, so a consumer can drop an event older than one it already applied.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from .registry import Payload, event

# The longest path of a unit in the organisation ("/district/street/community/grid/", unit codes of up to 32
# characters from the root): routing keeps its units' paths in this many characters, and every service that
# keeps a path from its events as many.
UNIT_PATH_MAX_LENGTH = 400

Outcome = Literal["解决到位", "解释到位", "帮扶到位", "依法处理"]
Clock = Literal["sign", "contact", "result"]
# What a work order is for: work (handled on the three clocks, scored in 三率), praise (表扬, for the
# unit's record, no clock), suggestion (建议, answered adopted or not on its own clock), guidance
# (私事, ends with guidance). Only work counts in 三率.
OrderKind = Literal["work", "praise", "suggestion", "guidance"]


class WorkOrderEvent(Payload):
    case_id: str
    case_no: str
    work_order_id: str
    seq: int
    unit_id: str
    unit_name: str
    at: datetime


@event("routing.case.dispatched", 1, subject=("case", "case_id"))
class CaseDispatched(WorkOrderEvent):
    unit_code: str
    unit_level: str
    role: Literal["lead", "assist"] = "lead"  # 主办 / 协办
    assignee_id: str | None = None
    requester_id: str | None = None
    rule: str  # why this unit: which responsibility rule or fallback matched
    dispatch_count: int = 1  # how many times this case has been dispatched
    sign_deadline: datetime | None = None
    result_deadline: datetime | None = None
    # Where the order sits in the organisation ("/district/street/community/grid/", unit codes from
    # the root) and where the case is (the path of the finest area holding it: a grid or community;
    # the street's for a case placed before routing kept finer areas): another service limits who
    # may see the case to the units above either, without knowing the tree.
    unit_path: str | None = Field(None, max_length=UNIT_PATH_MAX_LENGTH)
    area_path: str | None = Field(None, max_length=UNIT_PATH_MAX_LENGTH)
    kind: OrderKind = "work"
    # The order's urgency (特急 / 紧急 / 一般) when it was dispatched: notify lets the messages of
    # urgent orders through quiet hours and limits (a later change arrives as intake's urgency_changed).
    urgency: str | None = None


@event("routing.case.located", 1, subject=("case", "case_id"))
class CaseLocated(Payload):
    """Where a case routing dispatches no order for lies (answered on the spot, 自办自结, the residents'
    consultation, a dispute for mediation): the path of the finest area holding its point, so intake
    limits who sees it, and counts it in an area's reports, as it does for dispatched cases."""

    case_id: str
    area_path: str = Field(max_length=UNIT_PATH_MAX_LENGTH)
    at: datetime


@event("routing.case.signed", 1, subject=("case", "case_id"))
class CaseSigned(WorkOrderEvent):
    actor_id: str
    late: bool = False


@event("routing.case.contacted", 1, subject=("case", "case_id"))
class CaseContacted(WorkOrderEvent):
    actor_id: str
    late: bool = False


@event("routing.case.returned", 1, subject=("case", "case_id"))
class CaseReturned(WorkOrderEvent):
    """退单: the unit says it is not theirs; the case goes back to dispatch."""

    actor_id: str
    reason: str
    legal_basis: str
    # True when this was the last allowed dispatch: nobody re-dispatches it, the supervisors named
    # in routing.case.awaiting_designation must designate an owner.
    awaiting_designation: bool = False


class _Designation(WorkOrderEvent):
    """The case waits for 指定: the work order and unit are the last returned ones."""

    dispatch_count: int
    # The unit whose supervisors must designate (the nearest unit above the case with a supervisor
    # on duty, else the designating level's) and those supervisors (may POST /cases/{id}/designate).
    designating_unit_id: str
    designating_unit_name: str
    designator_ids: list[str] = []
    deadline: datetime


@event("routing.case.awaiting_designation", 1, subject=("case", "case_id"))
class CaseAwaitingDesignation(_Designation):
    """The last allowed dispatch was returned: a supervisor must name the owner by `deadline`."""


@event("routing.case.designation_overdue", 1, subject=("case", "case_id"))
class CaseDesignationOverdue(_Designation):
    """Nobody designated an owner by the deadline."""


@event("routing.case.designated", 1, subject=("case", "case_id"))
class CaseDesignated(WorkOrderEvent):
    """指定: after three dispatches without an owner, a supervisor names one."""

    designated_by: str


@event("routing.case.escalated", 1, subject=("case", "case_id"))
class CaseEscalated(WorkOrderEvent):
    """吹哨: a street or community handler whistles for departments."""

    actor_id: str
    department_unit_ids: list[str]
    report_deadline: datetime
    note: str | None = None


@event("routing.case.reported", 1, subject=("case", "case_id"))
class CaseReported(WorkOrderEvent):
    """报到: a whistled department acknowledged and joined as co-handler."""

    department_unit_id: str
    actor_id: str
    late: bool = False


@event("routing.case.report_overdue", 1, subject=("case", "case_id"))
class CaseReportOverdue(WorkOrderEvent):
    """吹哨 unanswered: a department called to the order did not report by its deadline. The work
    order and unit are the calling ones (the lead order and the unit that handles it)."""

    whistle_id: int
    department_unit_id: str
    department_code: str
    department_name: str
    called_by: str
    called_at: datetime
    deadline: datetime
    # The calling street (the street of the unit that whistled) and its supervisors on duty (the
    # nearest unit at or above the street with any): whom to tell besides the department's staff.
    street_unit_id: str | None = None
    street_supervisor_ids: list[str] = []


@event("routing.case.answered", 1, subject=("case", "case_id"))
class CaseAnswered(WorkOrderEvent):
    """A suggestion (建议) answered, adopted (采纳) or not, or a private matter (私事) ended with
    guidance; the order is closed next (routing.case.closed)."""

    kind: Literal["suggestion", "guidance"]
    actor_id: str
    adopted: bool | None = None  # suggestions only
    answer_text: str
    requester_id: str | None = None
    late: bool = False


@event("routing.case.extension_requested", 1, subject=("case", "case_id"))
class CaseExtensionRequested(WorkOrderEvent):
    """延期 asked for by the handler; a supervisor decides (routing.case.extended, or nothing when
    refused). Told because the 12345 platform follows its orders' extension requests too."""

    extension_id: int
    requested_by: str
    working_days: int
    reason: str | None = None


@event("routing.case.extended", 1, subject=("case", "case_id"))
class CaseExtended(WorkOrderEvent):
    """延期 approved by a supervisor."""

    approved_by: str
    new_result_deadline: datetime
    reason: str | None = None


@event("routing.case.resolved", 1, subject=("case", "case_id"))
class CaseResolved(WorkOrderEvent):
    """办结: the result with one of the four outcome codes."""

    actor_id: str  # who resolved it: the owner of the result photos' uploads (intake claims only hers)
    outcome: Outcome
    result_text: str
    photo_count: int = 0
    # The result photos: ids of uploads to intake (POST /intake/v1/attachments) by the resolving handler.
    # Routing checked their form only (UUIDs, at most 9); intake claims those `actor_id` uploaded and no
    # case took yet, as the case's result photos, and ignores the rest.
    photo_ids: list[str] = []
    requester_id: str | None = None
    late: bool = False


@event("routing.case.verified", 1, subject=("case", "case_id"))
class CaseVerified(WorkOrderEvent):
    verifier_id: str
    passed: bool
    note: str | None = None


@event("routing.case.closed", 1, subject=("case", "case_id"))
class CaseClosed(WorkOrderEvent):
    outcome: Outcome | None = None
    requester_id: str | None = None


@event("routing.case.warned", 1, subject=("case", "case_id"))
class CaseWarned(WorkOrderEvent):
    """预警: 75 % of a clock has run."""

    clock: Clock
    deadline: datetime
    assignee_id: str | None = None
    urgency: str | None = None  # the order's urgency now (see CaseDispatched.urgency)


@event("routing.case.overdue", 1, subject=("case", "case_id"))
class CaseOverdue(WorkOrderEvent):
    clock: Clock
    deadline: datetime
    assignee_id: str | None = None
    urgency: str | None = None  # the order's urgency now (see CaseDispatched.urgency)


@event("routing.case.supervised", 1, subject=("case", "case_id"))
class CaseSupervised(WorkOrderEvent):
    """督办 recorded by a supervisor; the handler is told."""

    supervisor_id: str
    note: str
    assignee_id: str | None = None


@event("routing.calendar.not_covered", 1, subject=("calendar", "year"))
class CalendarNotCovered(Payload):
    """A watched year (this one, or the next from `warn_from`, 1 November) has no State Council holiday
    notice loaded and no data of its own: working-day clocks in it count Monday to Friday. Told to the
    calendar's keepers (admins, supervisors of the root unit) once a week until the notice is loaded."""

    year: int
    starts: date
    policy: str  # uncovered_years: weekdays (counted Monday to Friday) or error
    keeper_ids: list[str]
    at: datetime
