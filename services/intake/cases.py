"""Creating and reading cases; the one module that changes a case's state."""

import uuid
from contextlib import suppress
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.events.intake import CaseSubmitted
from shared.messaging.outbox import Outbox

from .models import Case, CaseCounter, TimelineEntry

CHINA = ZoneInfo("Asia/Shanghai")


def next_case_no(session: Session, now: datetime) -> str:
    """2026-11-000123: the month in China time and a running number within it.

    On PostgreSQL the number comes from a sequence per month: a counter row would be locked by
    every submission until its commit, serialising all intake behind one row. A rolled-back
    submission leaves a gap in the numbers, which is harmless. SQLite has one writer at a time
    anyway, so a counter row costs nothing there.
    """
    period = now.astimezone(CHINA).strftime("%Y-%m")
    if session.get_bind().dialect.name == "postgresql":
        sequence = _month_sequence(session.get_bind(), period)
        value = session.execute(text(f"SELECT nextval('{sequence}')")).scalar_one()
    else:
        stmt = sqlite_insert(CaseCounter).values(period=period, value=1)
        stmt = stmt.on_conflict_do_update(index_elements=["period"], set_={"value": CaseCounter.value + 1})
        value = session.execute(stmt.returning(CaseCounter.value)).scalar_one()
    return f"{period}-{value:06d}"


_known_sequences: set[tuple[str, str]] = set()


def _month_sequence(engine, period: str) -> str:
    name = f"case_no_{period.replace('-', '_')}"
    key = (str(engine.url), name)
    if key not in _known_sequences:
        # Outside the request's transaction, so a race between two processes creating it
        # cannot abort a submission.
        # IntegrityError: created by another process at the same moment.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, suppress(IntegrityError):
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name}"))
        _known_sequences.add(key)
    return name


def add_timeline(session: Session, case_id: str, kind: str, text: str, *, public: bool = True,
                 at: datetime | None = None) -> TimelineEntry:
    entry = TimelineEntry(case_id=case_id, at=at or utcnow(), kind=kind, text=text, public=public)
    session.add(entry)
    return entry


def submit(session: Session, outbox: Outbox, *, reporter_id: str | None, body, urgency: str,
           correlation_id: str) -> tuple[Case, TimelineEntry]:
    now = utcnow()
    case = Case(
        id=str(uuid.uuid4()),
        case_no=next_case_no(session, now),
        reporter_id=reporter_id,
        appeal_type=body.appeal_type,
        category=body.category,
        description=body.description,
        lat=body.lat,
        lon=body.lon,
        address=body.address,
        channel=body.channel,
        urgency=urgency,
        status="submitted",
        routing_seq=0,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    entry = add_timeline(session, case.id, "submitted", f"已受理：诉求已登记，编号 {case.case_no}", at=now)
    outbox.emit(
        session,
        CaseSubmitted(case_id=case.id, case_no=case.case_no, category=case.category, channel=case.channel,
                      urgency=urgency, lat=case.lat, lon=case.lon, reporter_id=reporter_id, submitted_at=now),
        correlation_id=correlation_id,
    )
    return case, entry


def timeline(session: Session, case_id: str, *, include_internal: bool) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.case_id == case_id)
    if not include_internal:
        query = query.where(TimelineEntry.public.is_(True))
    return list(session.scalars(query.order_by(TimelineEntry.at, TimelineEntry.id)))


def page_of_cases(session: Session, *, reporter_id: str | None, status: str | None, page: int,
                  page_size: int) -> tuple[list[Case], int]:
    query = select(Case)
    if reporter_id is not None:
        query = query.where(Case.reporter_id == reporter_id)
    if status:
        query = query.where(Case.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Case.created_at.desc(), Case.id)
                           .offset((page - 1) * page_size).limit(page_size))
    return list(rows), total
