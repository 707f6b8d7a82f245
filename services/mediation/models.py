"""Mediation's own tables: committees and mediators, disputes and parties, sessions, risk,
agreements, clocks and follow-ups. Reads of a record are entries of the service's audit trail
(shared/audit.py). A party's personal data is sealed at rest (shared/sealed.py); her phone is found
by a keyed hash beside it (`phone_index`), the way identity hashes a resident's verified phone."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import BigIntId, UTCDateTime, service_metadata, utcnow
from shared.messaging.tables import messaging_tables
from shared.numbering import counter_table
from shared.offline import idempotency_key_model
from shared.sealed import Sealed
from shared.tracing import event_log_table


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)
# The running number of dispute numbers per month on SQLite (PostgreSQL: a sequence; shared/numbering.py).
dispute_counters = counter_table(Base.metadata, "dispute_counters")


def new_id() -> str:
    return str(uuid.uuid4())


# 状态 of a dispute. applied: waiting for every party's consent and the committee's acceptance.
STATUS_LABELS = {
    "applied": ("已申请，待受理", "Applied, awaiting acceptance"),
    "accepted": ("已受理，调解中", "Accepted, in mediation"),
    "refused": ("当事人拒绝调解，不予受理", "A party refused: not accepted"),
    "succeeded": ("调解成功，已达成协议", "Settled by agreement"),
    "failed": ("调解终止", "Mediation terminated"),
    "withdrawn": ("申请人已撤回", "Withdrawn by the applicant"),
}
OPEN_STATUSES = ("applied", "accepted")


class Committee(Base):
    __tablename__ = "committees"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # community | specialised
    specialty: Mapped[str | None] = mapped_column(String(20))  # property, labour, traffic, medical
    types: Mapped[list] = mapped_column(JSON, default=list)  # dispute types a specialised committee takes
    community_code: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(32))
    area_geojson: Mapped[str | None] = mapped_column(Text)  # the community's polygon (service area)
    supervisor_id: Mapped[str | None] = mapped_column(String(64))  # 委员会主任


class Mediator(Base):
    __tablename__ = "mediators"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the user id
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))  # 人民调解员, 五老, 乡贤, 法律顾问, 社工, 心理咨询师
    committee_id: Mapped[str] = mapped_column(ForeignKey("committees.id"), index=True)
    expertise: Mapped[list] = mapped_column(JSON, default=list)
    area_code: Mapped[str | None] = mapped_column(String(32))
    max_load: Mapped[int] = mapped_column(Integer, default=10)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Dispute(Base):
    __tablename__ = "disputes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dispute_no: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # the intake case, if any
    source: Mapped[str] = mapped_column(String(16))  # intake | application | committee
    dispute_type: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="applied")
    committee_id: Mapped[str | None] = mapped_column(ForeignKey("committees.id"), index=True)
    matter: Mapped[str] = mapped_column(Text)  # 纠纷事实
    claims: Mapped[str | None] = mapped_column(Text)  # 当事人请求
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 争议金额（元）
    people_involved: Mapped[int] = mapped_column(Integer, default=2)
    lat: Mapped[float | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column()
    privacy: Mapped[str] = mapped_column(String(10), default="private")  # sessions public | private
    requested_mediator_id: Mapped[str | None] = mapped_column(String(64))  # the parties' choice
    risk_level: Mapped[str] = mapped_column(String(4), default="低")
    risk_raised_level: Mapped[str | None] = mapped_column(String(4))  # highest level already raised
    created_by: Mapped[str | None] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue_emitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    # The parties' personal data was removed after the retention period (retention.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    routes: Mapped[list] = mapped_column(JSON, default=list)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # numbers the events of this dispute
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Party(Base):
    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))  # applicant | respondent
    # The party's own account, linked only in a verified way (see verification_method); absent: none yet.
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Sealed("mediation.parties.name"))
    phone: Mapped[str | None] = mapped_column(Sealed("mediation.parties.phone"))
    # blind_index(E.164 mobile, "phone"): equal to the `pix` of a resident who verified this phone by SMS.
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number: Mapped[str | None] = mapped_column(Sealed("mediation.parties.id_number"))
    address: Mapped[str | None] = mapped_column(Sealed("mediation.parties.address"))
    representative_name: Mapped[str | None] = mapped_column(Sealed("mediation.parties.representative_name"))
    representative_phone: Mapped[str | None] = mapped_column(Sealed("mediation.parties.representative_phone"))
    # How the party was identified: account (the applicant applying herself), intake (the reporter of the
    # referred case), phone (her SMS-verified phone matched), id_card / other_document (a mediator in person).
    verification_method: Mapped[str | None] = mapped_column(String(16))
    verified_by: Mapped[str | None] = mapped_column(String(64))  # the user who verified (or linked herself)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent: Mapped[str] = mapped_column(String(10), default="pending")  # pending | given | refused
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_recorded_by: Mapped[str | None] = mapped_column(String(64))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    privacy_request: Mapped[str | None] = mapped_column(String(10))  # public | private


class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    mediator_id: Mapped[str] = mapped_column(ForeignKey("mediators.id"), index=True)
    by_choice: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_assignments_mediator_active", "mediator_id", "active"),)


class Objection(Base):
    """回避: a party objects to a mediator, who then may not mediate this dispute."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    mediator_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("dispute_id", "party_id", "mediator_id", name="uq_objections_party"),)


class MediationSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="ordinary")  # ordinary | joint_meeting (四位一体)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(200))
    online_link: Mapped[str | None] = mapped_column(String(300))
    privacy: Mapped[str] = mapped_column(String(10), default="private")
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled | held
    record: Mapped[str | None] = mapped_column(Text)  # 笔录
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the reminder went out (once)


class Participant(Base):
    __tablename__ = "session_participants"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # party | mediator | invitee
    party_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Sealed("mediation.session_participants.name"))  # a party's or invitee's
    role_code: Mapped[str | None] = mapped_column(String(32))  # e.g. property_company, relative, expert
    attended: Mapped[bool | None] = mapped_column(Boolean)


class RiskAssessment(Base):
    __tablename__ = "risk_assessments"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    level: Mapped[str] = mapped_column(String(4))
    score: Mapped[int] = mapped_column(Integer)
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    people_involved: Mapped[int] = mapped_column(Integer, default=2)
    note: Mapped[str | None] = mapped_column(Text)
    police_liaison_unit: Mapped[str | None] = mapped_column(String(32))  # 民转刑: the police told
    assessed_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# 调解协议书 takes effect when every party signed, the mediator signed and the committee sealed it (人民调解法
# 第二十九条), in this order here: the parties sign the text (their confirmations), the mediator then signs it,
# and the committee's seal, recorded last, makes it effective. Performance (履行) is a later fact, found at
# follow-up (回访, 第三十一条): `performed_at`.
AGREEMENT_STATUSES = ("draft", "parties_signed", "mediator_signed", "effective")


class Agreement(Base):
    __tablename__ = "agreements"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), unique=True)
    facts: Mapped[str] = mapped_column(Text)  # 纠纷主要事实、争议事项
    status: Mapped[str] = mapped_column(String(20), default="draft")  # AGREEMENT_STATUSES
    version: Mapped[int] = mapped_column(Integer, default=1)  # a changed draft needs fresh confirmations
    drafted_by: Mapped[str] = mapped_column(String(64))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # every signature there (parties, mediator)
    mediator_signed_by: Mapped[str | None] = mapped_column(String(64))  # 人民调解员签名: who
    mediator_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sealed_by: Mapped[str | None] = mapped_column(String(64))  # 加盖调解委员会印章: who recorded it
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 生效: the 30 days of 司法确认 run from it
    court_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    performed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # every term found performed at 回访


class Term(Base):
    __tablename__ = "agreement_terms"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))  # who must do it
    obligation: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))


class Confirmation(Base):
    __tablename__ = "agreement_confirmations"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    method: Mapped[str] = mapped_column(String(12))  # online (the party) | in_person (signed on paper)
    recorded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("agreement_id", "version", "party_id", name="uq_confirmations_party"),)


class Extension(Base):
    """延长调解期限: granted only when every party consents."""

    __tablename__ = "extensions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | granted | refused
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtensionConsent(Base):
    __tablename__ = "extension_consents"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    extension_id: Mapped[str] = mapped_column(ForeignKey("extensions.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    consent: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("extension_id", "party_id", name="uq_extension_consents_party"),)


class Followup(Base):
    """回访: performance follow-ups and the 司法确认 window reminder; emitted once by the scanner."""

    __tablename__ = "followups"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"))
    kind: Mapped[str] = mapped_column(String(20))  # performance | court_confirmation
    term_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    emitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(20))  # performed | partly | not_performed
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index("ix_followups_pending", "emitted_at", "due_at"),)


# An application's Idempotency-Key (shared/offline.py): a double-tapped "submit" or a retry after a lost answer
# gets the first answer back instead of a second dispute against the same respondent.
IdempotencyKey = idempotency_key_model(Base, "mediation")
