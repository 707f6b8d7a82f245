"""Intake's own tables. Other services' things are referenced by id only."""

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigIntId, UTCDateTime, service_metadata
from shared.messaging.tables import messaging_tables


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)

STATUS_LABELS = {
    "submitted": ("已受理", "Received"),
    "dispatched": ("已派单", "Dispatched"),
}


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20), unique=True)
    reporter_id: Mapped[str | None] = mapped_column(String(64), index=True)
    appeal_type: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(36))
    unit_name: Mapped[str | None] = mapped_column(String(100))
    # routing's work-order sequence last applied: an event with a lower one is stale
    routing_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineEntry(Base):
    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # internal notes are never shown to residents


class CaseCounter(Base):
    """The running number behind human-readable case numbers, per month."""

    __tablename__ = "case_counters"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2026-11
    value: Mapped[int] = mapped_column(Integer)
