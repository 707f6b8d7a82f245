"""Events routing publishes about work orders (工单).

Every event carries the work order's `seq`, which increases with each change routing makes
to it, so a consumer can drop an event older than one it already applied.
"""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

Outcome = Literal["解决到位", "解释到位", "帮扶到位", "依法处理"]
Clock = Literal["sign", "contact", "result"]


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
    unit_path: str | None = None
    area_path: str | None = None


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


@event("routing.case.extended", 1, subject=("case", "case_id"))
class CaseExtended(WorkOrderEvent):
    """延期 approved by a supervisor."""

    approved_by: str
    new_result_deadline: datetime
    reason: str | None = None


@event("routing.case.resolved", 1, subject=("case", "case_id"))
class CaseResolved(WorkOrderEvent):
    """办结: the result with one of the four outcome codes."""

    actor_id: str
    outcome: Outcome
    result_text: str
    photo_count: int = 0
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


@event("routing.case.overdue", 1, subject=("case", "case_id"))
class CaseOverdue(WorkOrderEvent):
    clock: Clock
    deadline: datetime
    assignee_id: str | None = None


@event("routing.case.supervised", 1, subject=("case", "case_id"))
class CaseSupervised(WorkOrderEvent):
    """督办 recorded by a supervisor; the handler is told."""

    supervisor_id: str
    note: str
    assignee_id: str | None = None
