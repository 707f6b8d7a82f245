"""Events mediation publishes. Parties are referred to by user id only."""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

RiskLevel = Literal["低", "中", "高", "极高"]
Route = Literal["诉讼", "仲裁", "行政处理", "信访"]


class DisputeEvent(Payload):
    dispute_id: str
    dispute_no: str
    case_id: str | None = None  # the intake case it came from, if any
    seq: int
    at: datetime


@event("mediation.case.applied", 1, subject=("dispute", "dispute_id"))
class DisputeApplied(DisputeEvent):
    dispute_type: str
    source: Literal["intake", "application", "committee"]
    committee_id: str | None = None
    party_user_ids: list[str] = []


@event("mediation.case.accepted", 1, subject=("dispute", "dispute_id"))
class DisputeAccepted(DisputeEvent):
    committee_id: str
    party_user_ids: list[str] = []
    deadline: datetime


@event("mediation.case.refused", 1, subject=("dispute", "dispute_id"))
class DisputeRefused(DisputeEvent):
    """A party expressly refused: mediation does not proceed (not accepted)."""

    refused_by_party_id: str
    routes: list[Route]
    party_user_ids: list[str] = []


@event("mediation.case.assigned", 1, subject=("dispute", "dispute_id"))
class DisputeAssigned(DisputeEvent):
    mediator_ids: list[str]
    committee_id: str
    by_choice: bool = False  # chosen by the parties
    party_user_ids: list[str] = []


@event("mediation.session.scheduled", 1, subject=("dispute", "dispute_id"))
class SessionScheduled(DisputeEvent):
    session_id: str
    starts_at: datetime
    online: bool = False
    participant_user_ids: list[str] = []


@event("mediation.session.reminder", 1, subject=("dispute", "dispute_id"))
class SessionReminder(DisputeEvent):
    """A scheduled session is near: the participants are reminded once."""

    session_id: str
    starts_at: datetime
    online: bool = False
    participant_user_ids: list[str] = []


@event("mediation.session.held", 1, subject=("dispute", "dispute_id"))
class SessionHeld(DisputeEvent):
    session_id: str
    attended_user_ids: list[str] = []


@event("mediation.risk.raised", 1, subject=("dispute", "dispute_id"))
class RiskRaised(DisputeEvent):
    """High risk (民转刑 warning): routing puts it on the street's watch list, police liaison told."""

    level: RiskLevel
    indicators: list[str]
    street_unit_id: str | None = None
    committee_id: str | None = None
    street_code: str | None = None  # the street's unit code (street_unit_id is routing's id for it)
    police_unit_code: str | None = None  # the police liaison told of the 民转刑 warning
    mediator_ids: list[str] = []


@event("mediation.agreement.signed", 1, subject=("dispute", "dispute_id"))
class AgreementSigned(DisputeEvent):
    agreement_id: str
    party_user_ids: list[str] = []
    court_confirmation_deadline: datetime


@event("mediation.case.succeeded", 1, subject=("dispute", "dispute_id"))
class DisputeSucceeded(DisputeEvent):
    agreement_id: str
    party_user_ids: list[str] = []


@event("mediation.case.failed", 1, subject=("dispute", "dispute_id"))
class DisputeFailed(DisputeEvent):
    """Terminated (mediation failed) or withdrawn by the applicant; the routes left to the parties."""

    reason: Literal["failed", "withdrawn"]
    routes: list[Route] = []
    party_user_ids: list[str] = []


@event("mediation.case.overdue", 1, subject=("dispute", "dispute_id"))
class DisputeOverdue(DisputeEvent):
    deadline: datetime
    mediator_ids: list[str] = []


@event("mediation.followup.due", 1, subject=("dispute", "dispute_id"))
class FollowupDue(DisputeEvent):
    """A performance follow-up (回访) or the 司法确认 window reminder is due."""

    agreement_id: str
    kind: Literal["performance", "court_confirmation"]
    due_at: datetime
    mediator_ids: list[str] = []
    party_user_ids: list[str] = []
