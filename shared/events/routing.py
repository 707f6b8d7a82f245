"""Events routing publishes."""

from datetime import datetime

from .registry import Payload, event


@event("routing.case.dispatched", 1, subject=("case", "case_id"))
class CaseDispatched(Payload):
    case_id: str
    case_no: str
    work_order_id: str
    # Increases with every change routing makes to the work order, so consumers can drop stale events.
    seq: int
    unit_id: str
    unit_code: str
    unit_name: str
    unit_level: str
    assignee_id: str | None = None
    requester_id: str | None = None
    rule: str  # why this unit: which responsibility rule or fallback matched
    dispatched_at: datetime
