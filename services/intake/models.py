"""Intake's own tables. Other services' things are referenced by id only.

Personal data is sealed at rest (shared.sealed): the caller's phone and the address, and every
column of free text a person types, where a phone, an ID number or a name may be written — the
description, the answers, the unit's result text, the timeline (supplements, notes, reasons), the
evaluation comment and an upload's own file name. None of them is searched in SQL: the duplicate
lookup narrows by category, place and time and compares the texts of the few it finds once opened.
"""

import json
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import BigIntId, UTCDateTime, service_metadata
from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH
from shared.events.routing import UNIT_PATH_MAX_LENGTH
from shared.messaging.tables import messaging_tables
from shared.sealed import Sealed
from shared.tracing import event_log_table


class SealedJSON(Sealed):
    """A JSON value sealed at rest: its JSON text is sealed as a Sealed string would be (so key
    rotation, shared.sealed.reseal, treats it like any other sealed column)."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, ensure_ascii=False), dialect)

    def process_result_value(self, value, dialect):
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The duplicate lookup: category, a grid cell of the point, a time window (see duplicates.py).
        Index("ix_cases_dup", "category", "grid_cell", "created_at"),
        # A platform's order becomes one case: a re-sent order finds it (imports.py), two copies of a batch
        # racing meet here. Order number first: staff search by the number alone (GET /cases?external_no=).
        Index("ux_cases_external", "external_no", "external_source", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20), unique=True)
    reporter_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # A caller's phone (E.164), sealed at rest; kept here only, never in events or logs, and not at
    # all when the caller refused consent. Found by its keyed hash (shared.keys.blind_index, purpose
    # "phone"), the same hash a resident's token carries for her verified phone: the hotline's
    # lookup, and a resident seeing the cases filed for her by phone. No index for anonymous reports.
    reporter_phone: Mapped[str | None] = mapped_column(Sealed("intake.cases.reporter_phone"))
    reporter_phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by_id: Mapped[str | None] = mapped_column(String(64))  # the operator or grid worker who filed it
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)  # 保密
    consent: Mapped[bool | None] = mapped_column(Boolean)  # a caller's consent to record the call
    appeal_type: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(64))
    category_version: Mapped[int] = mapped_column(Integer, default=1)
    matter_class: Mapped[str | None] = mapped_column(String(4))
    clock_profile: Mapped[str | None] = mapped_column(String(CLOCK_PROFILE_MAX_LENGTH))
    route: Mapped[str] = mapped_column(String(16), default="dispatch")  # dispatch, mediation, direct, consultation
    answers: Mapped[dict | None] = mapped_column(SealedJSON("intake.cases.answers"))  # the category's questions
    description: Mapped[str] = mapped_column(Sealed("intake.cases.description"))
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    coord_system: Mapped[str | None] = mapped_column(String(8))  # as given: wgs84 / gcj02 / bd09
    orig_lat: Mapped[float | None] = mapped_column(Float)
    orig_lon: Mapped[float | None] = mapped_column(Float)
    grid_cell: Mapped[int | None] = mapped_column(BigInteger)
    address: Mapped[str | None] = mapped_column(Sealed("intake.cases.address"))  # sealed at rest
    channel: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(4))
    # A higher urgency the requester asked for: a request for staff to decide on, never applied by
    # itself (it would put a garbage complaint on 30-minute clocks). Cleared when staff decide.
    requested_urgency: Mapped[str | None] = mapped_column(String(4))
    # 表扬: the unit the resident praises, by its unit code, when she named one (routing files the praise
    # in that unit's record). Not personal data: an organisation's code.
    praised_unit_code: Mapped[str | None] = mapped_column(String(32))
    # A case imported from another platform (the city's 12345 hotline platform: imports.py): the source, its
    # order number (an identifier, not personal data: searchable, shown to staff and on every work order),
    # when the platform received it and the deadline the platform set. Routing's clocks still decide the
    # case's deadlines; the platform's is shown beside them (views.py warns when it is the earlier).
    external_source: Mapped[str | None] = mapped_column(String(20))
    external_no: Mapped[str | None] = mapped_column(String(64))
    external_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The requester's name as the platform gave it, sealed like the phone and kept only with her consent;
    # shown as the phone is (views.reporter_of), removed with it at retention.
    requester_name: Mapped[str | None] = mapped_column(Sealed("intake.cases.requester_name"))
    # Routing's result deadline of the current lead order, as its events said (dispatched, extended, a
    # result clock's warning or overdue): what the platform's deadline is compared with.
    result_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32), index=True)  # status.py: the longest is 25
    # A status only moves forward within a cycle (see status.py); a reopen starts a new cycle.
    status_rank: Mapped[int] = mapped_column(Integer, default=0)
    cycle_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    work_order_id: Mapped[str | None] = mapped_column(String(36))  # routing's current lead work order
    unit_id: Mapped[str | None] = mapped_column(String(36))
    unit_name: Mapped[str | None] = mapped_column(String(100))
    # Where the case is in the organisation, as routing's last lead dispatch gave it: the path of the
    # finest area holding its point ("/district/street/community/grid/"; the street's for a case
    # routing placed before it kept finer areas). Who sees the case by area (see access.py).
    area_path: Mapped[str | None] = mapped_column(String(UNIT_PATH_MAX_LENGTH))
    mediation_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The last step of the residents' consultation applied (selfgov's matter seq): an older one is dropped.
    consultation_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dispute_id: Mapped[str | None] = mapped_column(String(36))
    parent_case_id: Mapped[str | None] = mapped_column(String(36), index=True)  # merged into
    interest_count: Mapped[int] = mapped_column(Integer, default=1)  # the reporter plus those who joined
    outcome: Mapped[str | None] = mapped_column(String(8))
    result_text: Mapped[str | None] = mapped_column(Sealed("intake.cases.result_text"))  # the unit's words
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluation_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the case reached a finished status (status.FINISHED; cleared by a reopen), and when its
    # personal data was removed after the retention period (retention.py).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineEntry(Base):
    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Sealed("intake.case_timeline.text"))
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # internal notes are never shown to residents


class CaseCounter(Base):
    """The running number behind human-readable case numbers, per month."""

    __tablename__ = "case_counters"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2026-11
    value: Mapped[int] = mapped_column(Integer)


class WorkOrderSeen(Base):
    """The last `seq` applied per routing work order: an event at or below it is stale or repeated."""

    __tablename__ = "work_orders_seen"

    work_order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10), default="lead")
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseUnit(Base):
    """Every unit that holds or held a work order of the case (lead or assisting), as routing's
    events named it: its id, and its path in the organisation ("/district/street/community/grid/")
    when the event gave one. Staff see a case when one of their units is on such a path (access.py);
    a unit only known by id (a whistled department that reported) is matched by its id."""

    __tablename__ = "case_units"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    unit_path: Mapped[str | None] = mapped_column(String(UNIT_PATH_MAX_LENGTH))
    role: Mapped[str] = mapped_column(String(10), default="lead")  # lead / assist, as first seen
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Follower(Base):
    """Residents who joined a case (它也影响我) and follow its updates."""

    __tablename__ = "case_followers"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)  # None until a case or supplement uses it
    # What the file is to its case: `material` the requester's (or staff's) material, named in a submission
    # or a supplement; `result` a handler's photo of the result, claimed when routing's resolved event names
    # it. The two are shown apart, and only material counts towards a case's limit of uploads.
    purpose: Mapped[str] = mapped_column(String(10), default="material", server_default="material")
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(Sealed("intake.attachments.filename"))  # as uploaded, ≤ 120
    path: Mapped[str] = mapped_column(String(300))  # relative to var_dir/attachments
    thumb_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Evaluation(Base):
    """A callback evaluation (回访), or the record that none came in time (evaluated=False)."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    work_order_id: Mapped[str | None] = mapped_column(String(36))
    unit_id: Mapped[str | None] = mapped_column(String(36))
    evaluated: Mapped[bool] = mapped_column(Boolean)
    contacted: Mapped[bool | None] = mapped_column(Boolean)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str | None] = mapped_column(String(4))
    comment: Mapped[str | None] = mapped_column(Sealed("intake.evaluations.comment"))
    via: Mapped[str] = mapped_column(String(10))  # resident / operator / timeout
    by_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """A submission's Idempotency-Key: a retry returns the same case; another body is a conflict."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CatalogueVersion(Base):
    """Each published category catalogue; the highest version is current. Version 1 is data/catalogue.json."""

    __tablename__ = "catalogue_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # the JSON tree
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnowledgeEntry(Base):
    """A knowledge base entry edited over the API: which version is current, and whether it is
    retired. An entry of the shipped data/knowledge.json nobody edited has no row: it is current at
    version 1 as the file says (knowledge.py)."""

    __tablename__ = "knowledge_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)  # the current version
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnowledgeVersion(Base):
    """Every version of an edited entry, kept: a case answered from it names the version it cited.
    Version 1 of a shipped entry is copied from the file when it is first edited."""

    __tablename__ = "knowledge_versions"

    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[str] = mapped_column(Text)  # a JSON list
    answer: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))  # None: the shipped file's version 1
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
