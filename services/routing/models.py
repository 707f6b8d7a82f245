"""Routing's own tables: the organisation, staff, the responsibility list, work orders and their clocks."""

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import BigIntId, UTCDateTime, service_metadata
from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH
from shared.events.routing import UNIT_PATH_MAX_LENGTH
from shared.messaging.tables import messaging_tables
from shared.offline import idempotency_key_model
from shared.tracing import event_log_table


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)


class Unit(Base):
    """A node of the organisation: district, street, community, grid, or a department."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str | None] = mapped_column(String(20))
    # What a department is (police, environment, ...): the responsibility list may name a type.
    unit_type: Mapped[str | None] = mapped_column(String(40), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    depth: Mapped[int] = mapped_column(Integer)  # 0 for the root; deeper is finer
    # Codes from the root down, "/a/b/c/": a subtree is one indexed prefix match.
    path: Mapped[str | None] = mapped_column(String(UNIT_PATH_MAX_LENGTH), index=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON, WGS-84


class Revision(Base):
    """A number raised in the transaction of every change of a piece of reference data ("directory":
    the units and their polygons), so a process rebuilds what it derived from it (the grid index) when
    the number moved, and never otherwise."""

    __tablename__ = "reference_revisions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Staff(Base):
    __tablename__ = "staff"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[str] = mapped_column(String(36), index=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)


# A work order in one of these still needs its unit's work (and counts as load).
OPEN_STATUSES = ("dispatched", "signed", "in_progress", "resolved", "verified")
# Ended: closed, or left to another order of the case (returned, reassigned) or to nobody (cancelled).
FINISHED_STATUSES = ("closed", "returned", "reassigned", "cancelled")
STATUSES = OPEN_STATUSES + FINISHED_STATUSES
# As staff read them: the ledger's column, and the detail of a refused transition.
STATUS_ZH = {"dispatched": "待签收", "signed": "已签收", "in_progress": "办理中", "resolved": "已办结",
             "verified": "已核查", "closed": "已结案", "returned": "已退单", "reassigned": "已改派",
             "cancelled": "已撤销"}


class AssigneeLoad(Base):
    """How many open work orders (OPEN_STATUSES) each person holds: dispatch reads one row per
    candidate instead of counting their orders, which grew with each person's history (issue 15).
    Kept by load.py in the transaction of every change of a work order; a missing row is 0."""

    __tablename__ = "assignee_loads"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    open_orders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ResponsibilityVersion(Base):
    """One version of the responsibility list (职责清单); dispatch uses the newest active one."""

    __tablename__ = "responsibility_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)  # the JSON document
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoutingCase(Base):
    """Routing's view of one case: its event counter and how often it was dispatched."""

    __tablename__ = "routing_cases"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20))
    # Every routing event about the case takes the next value: intake drops older ones.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    # active | awaiting_designation | cancelled | merged; indexed: the designation list reads by it
    state: Mapped[str] = mapped_column(String(30), index=True)
    lead_work_order_id: Mapped[str | None] = mapped_column(String(36))
    # What the dispatch needs again after a return or a reopening.
    category: Mapped[str] = mapped_column(String(64))
    matter_class: Mapped[str | None] = mapped_column(String(4))
    urgency: Mapped[str] = mapped_column(String(4))
    clock_profile: Mapped[str | None] = mapped_column(String(CLOCK_PROFILE_MAX_LENGTH))  # as intake's event gave it
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    requester_id: Mapped[str | None] = mapped_column(String(64))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(12), default="work", server_default="work")  # KINDS
    street_id: Mapped[str | None] = mapped_column(String(36))  # the street where the case is, if located
    # The finest area unit (grid, else community, ...) whose polygon holds the case, if located.
    area_id: Mapped[str | None] = mapped_column(String(36))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The order number of the platform the case came from (the city's 12345 platform), as intake's event
    # gave it: every work order of the case carries it, so a handler and the ledger name the order the
    # platform counts. An identifier, not personal data.
    external_no: Mapped[str | None] = mapped_column(String(64))


SCORE_COLUMNS = ["street_id", "unit_id", "category", "status", "excluded", "sign_late", "contact_late", "evaluated",
                 "solved", "satisfaction", "resolved_at", "result_late", "contact_denied", "kind", "adopted"]

# What a work order is for: `work` is handled on the three clocks and scored in 三率; `praise` (表扬)
# goes to the unit praised, for its record, with no clock; `suggestion` (建议) is answered, adopted or
# not (采纳), on its own clock; `guidance` (私事) ends with guidance. Only `work` counts in 三率.
KINDS = ("work", "praise", "suggestion", "guidance")


class WorkOrder(Base):
    __tablename__ = "work_orders"
    # The score query reads one period's rows from this index alone (PostgreSQL index-only scan).
    __table_args__ = (Index("ix_work_orders_scores", "period", "role", postgresql_include=SCORE_COLUMNS),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    case_no: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str] = mapped_column(String(36), index=True)
    street_id: Mapped[str | None] = mapped_column(String(36), index=True)  # for scores by street
    # Where the case is: the finest area unit holding its point (access: community staff read the
    # orders of cases located in their community, whoever handles them).
    area_id: Mapped[str | None] = mapped_column(String(36), index=True)
    assignee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    requester_id: Mapped[str | None] = mapped_column(String(64))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(4))
    clock_profile: Mapped[str | None] = mapped_column(String(CLOCK_PROFILE_MAX_LENGTH))  # clocks.json's name
    external_no: Mapped[str | None] = mapped_column(String(64))  # the 12345 platform's order number (RoutingCase)
    role: Mapped[str] = mapped_column(String(10), default="lead")  # lead 主办 | assist 协办
    kind: Mapped[str] = mapped_column(String(12), default="work", server_default="work")  # KINDS
    lead_id: Mapped[str | None] = mapped_column(String(36), index=True)  # an assisting order's lead order
    status: Mapped[str] = mapped_column(String(20), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the case's event counter at the last change of this order
    dispatch_no: Mapped[int] = mapped_column(Integer, default=1)  # 1 for the first dispatch of the case
    designated: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)  # this order's result was reopened
    rule: Mapped[str] = mapped_column(Text)  # why this unit: kept for audit
    rule_id: Mapped[str | None] = mapped_column(String(64))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM of dispatch, local time: scores
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_late: Mapped[bool | None] = mapped_column(Boolean)
    contact_late: Mapped[bool | None] = mapped_column(Boolean)
    result_late: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(8))
    result_text: Mapped[str | None] = mapped_column(Text)
    # JSON list of the result photos' ids (intake's attachments); orders resolved before issue 12 hold the
    # unchecked strings a client sent then, which the view leaves out (views.photo_ids).
    photos: Mapped[str | None] = mapped_column(Text)
    # From intake's callback evaluation (回访); evaluated False means no answer came.
    evaluated: Mapped[bool | None] = mapped_column(Boolean)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str | None] = mapped_column(String(8))
    # The requester answered the callback that nobody contacted her: the order did not respond,
    # whatever the unit recorded (响应率), and supervisors see it on the order.
    contact_denied: Mapped[bool | None] = mapped_column(Boolean)
    adopted: Mapped[bool | None] = mapped_column(Boolean)  # a suggestion's answer: adopted (采纳) or not
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    excluded_by: Mapped[str | None] = mapped_column(String(64))


class TimelineEntry(Base):
    """Every transition of a work order, with who and why: the audit trail."""

    __tablename__ = "work_order_timeline"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    work_order_id: Mapped[str] = mapped_column(String(36), index=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))  # the order's status after the change
    actor_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Clock(Base):
    """A deadline of a work order. `next_fire_at` is when the scanner must look at it next
    (the warning, then the deadline); NULL once it fired both or was stopped."""

    __tablename__ = "clocks"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    work_order_id: Mapped[str] = mapped_column(String(36), index=True)
    # sign | contact | result of a lead order (a suggestion or guidance has only its result clock:
    # the answer); designate (on the returned order while its case waits for 指定); report (吹哨)
    kind: Mapped[str] = mapped_column(String(10))
    whistle_id: Mapped[int | None] = mapped_column(BigIntId)  # the whistle a report clock waits for
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    working_time: Mapped[bool] = mapped_column(Boolean, default=False)
    warned: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Whistle(Base):
    """吹哨报到: one department called to a work order, and when it reported."""

    __tablename__ = "whistles"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    work_order_id: Mapped[str] = mapped_column(String(36), index=True)
    department_unit_id: Mapped[str] = mapped_column(String(36), index=True)
    called_by: Mapped[str] = mapped_column(String(64))
    called_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by: Mapped[str | None] = mapped_column(String(64))
    late: Mapped[bool | None] = mapped_column(Boolean)
    assist_order_id: Mapped[str | None] = mapped_column(String(36))


class Extension(Base):
    """延期 request; only a supervisor's approval moves the result deadline."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    work_order_id: Mapped[str] = mapped_column(String(36), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # pending | approved | rejected
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WatchEntry(Base):
    """A street's watch list (重点关注): high-risk disputes reported by mediation."""

    __tablename__ = "watch_list"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(String(36), index=True)
    case_id: Mapped[str | None] = mapped_column(String(36))
    street_unit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    level: Mapped[str] = mapped_column(String(10))
    indicators: Mapped[str] = mapped_column(Text)  # JSON list
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)



# A grid worker's phone replays the steps it queued offline (sign, contact, resolve, answer, return): a
# replay with the same Idempotency-Key gets the first answer and changes nothing (shared/offline.py).
IdempotencyKey = idempotency_key_model(Base, "routing")


class ResidentRating(Base):
    """居民直评: a community's or grid's score from its residents in a rating period (selfgov.ratings.scored),
    replaced whole by a newer event of the period (`as_of`)."""

    __tablename__ = "resident_ratings"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # the rating period: 2026-Q4, 2026-11, …
    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(20))
    responses: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)  # 0–100; null below selfgov's minimum of responses
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)


class GridActivity(Base):
    """A grid's work beside its work orders, one row per patrol finished (grid.patrol.finished) or case settled
    on the spot (自办自结: intake.case.submitted, route direct, closed_as self_resolved), by local month, with the
    grid's community and street so the streets' rows add them up."""

    __tablename__ = "grid_activity"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the patrol's or the case's id
    kind: Mapped[str] = mapped_column(String(16))  # patrol | self_resolved
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM, local
    grid_id: Mapped[str | None] = mapped_column(String(36))
    community_id: Mapped[str | None] = mapped_column(String(36))
    street_id: Mapped[str | None] = mapped_column(String(36))
    worker_id: Mapped[str | None] = mapped_column(String(64))
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)  # long enough for the daily patrol rule
    __table_args__ = (Index("ix_grid_activity_period_grid", "period", "grid_id"),)
