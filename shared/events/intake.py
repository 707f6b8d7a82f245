"""Events intake publishes."""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

Urgency = Literal["一般", "紧急", "特急"]


@event("intake.case.submitted", 1, subject=("case", "case_id"))
class CaseSubmitted(Payload):
    case_id: str
    case_no: str
    category: str
    channel: str
    urgency: Urgency = "一般"
    lat: float | None = None  # WGS-84
    lon: float | None = None
    reporter_id: str | None = None  # absent for anonymous reports
    submitted_at: datetime
