"""A case's timeline: what happened to it, in public entries (the resident's progress) and internal
notes (staff only). Every rule that changes a case writes here."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow

from .models import TimelineEntry


def add(session: Session, case_id: str, kind: str, text: str, *, public: bool = True,
        at: datetime | None = None) -> TimelineEntry:
    entry = TimelineEntry(case_id=case_id, at=at or utcnow(), kind=kind, text=text, public=public)
    session.add(entry)
    return entry


def entries(session: Session, case_id: str, *, include_internal: bool) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.case_id == case_id)
    if not include_internal:
        query = query.where(TimelineEntry.public.is_(True))
    return list(session.scalars(query.order_by(TimelineEntry.at, TimelineEntry.id)))
