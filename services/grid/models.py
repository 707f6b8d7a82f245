"""The grid service's tables: its copy of the grids, patrols and their tracks, the daily rule's checks, the
grid's register (人、地、事、物、组织), visits, the cases grid workers reported (from intake's events) and the
Idempotency-Keys of offline writes.

The register is the most personal data the system holds (特殊人群 are sensitive personal information under
the Personal Information Protection Law): an entry's personal fields (names, ID numbers, phones, addresses of
people) are one sealed JSON document (shared/sealed.py); what is not personal (the kind, the grid, the
category, a building's name) stays in plain columns so that scope filters and ledgers are queries."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import BigIntId, UTCDateTime, service_metadata, utcnow
from shared.events.routing import UNIT_PATH_MAX_LENGTH
from shared.messaging.tables import messaging_tables
from shared.offline import idempotency_key_model
from shared.sealed import Sealed
from shared.tracing import event_log_table


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)


def new_id() -> str:
    return str(uuid.uuid4())


class Grid(Base):
    """The service's copy of the grids of routing's directory (loaded from the same organisation file)."""

    __tablename__ = "grids"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(36))  # shared.ids.unit_id(code)
    name: Mapped[str] = mapped_column(String(120))
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    # "/district/street/community/grid/": every unit above the grid, so a scope is one prefix match.
    path: Mapped[str] = mapped_column(String(UNIT_PATH_MAX_LENGTH))
    area_geojson: Mapped[str | None] = mapped_column(Text)


class Patrol(Base):
    __tablename__ = "patrols"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    grid_code: Mapped[str] = mapped_column(String(32), index=True)
    worker_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | finished
    # The phone's clock (client_at): when the worker started and finished, even if it was sent later.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    day: Mapped[str] = mapped_column(String(10), index=True)  # local date of the start, YYYY-MM-DD
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    point_count: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[bool] = mapped_column(Boolean, default=False)  # finished and long enough for the rule
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_patrols_grid_day", "grid_code", "day"),)


class PatrolPoint(Base):
    __tablename__ = "patrol_points"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    patrol_id: Mapped[str] = mapped_column(ForeignKey("patrols.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's time of the fix


class Finding(Base):
    """A case the worker reported on a patrol (intake, channel grid_patrol), linked by its id; it counts once
    intake's event confirms she filed it (a GridReport: patrols.counted)."""

    __tablename__ = "patrol_findings"
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a case belongs to one patrol
    patrol_id: Mapped[str] = mapped_column(ForeignKey("patrols.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GridReport(Base):
    """A case a grid worker filed (intake.case.submitted, channel grid_patrol): 自办自结 when closed at intake."""

    __tablename__ = "grid_reports"
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32))
    reporter_id: Mapped[str | None] = mapped_column(String(64), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(32), index=True)
    self_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PatrolDay(Base):
    """A grid's day against the rule; checked once, at check_at, by the scanner (missed: warned)."""

    __tablename__ = "patrol_days"
    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    required: Mapped[int] = mapped_column(Integer)
    done: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | met | missed
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


KINDS = ("building", "household", "person", "rental", "tenant", "organisation")


class Entry(Base):
    """One record of the grid's register: a building (楼栋/地址), a household (户), a person under watch or care
    (特殊人群/关爱对象), a rented room (出租屋), a tenant (流动人口), an organisation (商户、物业)."""

    __tablename__ = "register_entries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    grid_code: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)  # building / household / rental
    category: Mapped[str | None] = mapped_column(String(40), index=True)  # a person's
    label: Mapped[str | None] = mapped_column(String(200))  # what is not personal: a building's name, a room
    public: Mapped[dict] = mapped_column(JSON, default=dict)
    personal: Mapped[str | None] = mapped_column(Sealed("grid.register_entries.personal"))  # JSON, sealed
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    visit_every_days: Mapped[int | None] = mapped_column(Integer)
    visit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Change(Base):
    """Every change of the register (the 台账 of register changes): who, when, which fields, never values."""

    __tablename__ = "register_changes"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    grid_code: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(10))  # created | updated | imported
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    by_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    client_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    grid_code: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    worker_id: Mapped[str] = mapped_column(String(64), index=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the phone's clock
    note: Mapped[str | None] = mapped_column(Sealed("grid.visits.note"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    help_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# An offline write's Idempotency-Key (shared/offline.py): a replay returns the first answer (sealed: it may
# hold the register's personal fields) and changes nothing.
IdempotencyKey = idempotency_key_model(Base, "grid")
