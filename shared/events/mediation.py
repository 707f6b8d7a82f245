"""Events mediation publishes. Parties are referred to by user id only."""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

RiskLevel = Literal["低", "中", "高", "极高"]
# The routes the parties are told of when mediation does not happen or fails. Mediation now sends only the
# three 人民调解法 第二十六条 names (仲裁、行政、司法); the older values stay readable in events already sent.
Route = Literal["诉讼", "仲裁", "行政处理", "信访", "行政", "司法"]


class DisputeEvent(Payload):
    dispute_id: str
    dispute_no: str
    case_id: str | None = None  # the intake case it came from, if any
    seq: int
    at: datetime


@event("mediation.case.applied", 1, subject=("dispute", "dispute_id"))
class DisputeApplied(DisputeEvent):
    """A new dispute (an application, a referred case, or the committee's own initiative). The committee's
    head (`committee_head_id`) is to be told, unless she entered it herself."""

    dispute_type: str
    source: Literal["intake", "application", "committee"]
    committee_id: str | None = None
    party_user_ids: list[str] = []
    committee_head_id: str | None = None  # 调解委员会主任: reviews and accepts (受理) the application


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
    """The agreement took effect (生效, 人民调解法 第二十九条): every party signed, the mediator signed and the
    committee sealed it. Not performance (履行): that is found at follow-up (mediation.agreement.performed)."""

    agreement_id: str
    party_user_ids: list[str] = []
    court_confirmation_deadline: datetime  # 30 days from the effect (第三十三条)
    effective_at: datetime | None = None
    mediator_ids: list[str] = []  # the mediators who signed
    sealed_by: str | None = None  # who recorded the committee's seal (its head, or a mediator of the committee)


@event("mediation.case.succeeded", 1, subject=("dispute", "dispute_id"))
class DisputeSucceeded(DisputeEvent):
    """The mediation ended in an agreement in force (调解成功); its terms are performed later, if at all."""

    agreement_id: str
    party_user_ids: list[str] = []
    effective_at: datetime | None = None


@event("mediation.agreement.performed", 1, subject=("dispute", "dispute_id"))
class AgreementPerformed(DisputeEvent):
    """Every term of the agreement in force was found performed (已履行) at follow-up (回访: the committee
    supervises performance, 人民调解法 第三十一条); emitted once."""

    agreement_id: str
    followup_ids: list[int] = []  # the follow-ups that found each term performed
    party_user_ids: list[str] = []
    mediator_ids: list[str] = []


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
    """A performance follow-up (回访, for the mediators) or the 司法确认 window reminder (for the parties: within
    30 days of the agreement taking effect both parties may jointly apply to the people's court to confirm it,
    人民调解法 第三十三条) is due."""

    agreement_id: str
    kind: Literal["performance", "court_confirmation"]
    due_at: datetime
    mediator_ids: list[str] = []
    party_user_ids: list[str] = []
    term_id: int | None = None  # performance: the term followed up
    effective_at: datetime | None = None  # court_confirmation: when the agreement took effect
    court_confirmation_deadline: datetime | None = None  # court_confirmation: the last day to apply
    legal_basis: str | None = None  # court_confirmation: "人民调解法第三十三条"
