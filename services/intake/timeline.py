"""A case's timeline: what happened to it, in public entries (the resident's progress) and internal
notes (staff only). Every rule that changes a case writes here."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.messaging.deferred import insert_later

from .models import TimelineEntry


def add(session: Session, case_id: str, kind: str, text: str, *, public: bool = True,
        at: datetime | None = None, deferred: bool = False) -> TimelineEntry:
    """`deferred`: the row is inserted at COMMIT with the transaction's events (shared.messaging.deferred),
    not flushed through the ORM: for a case just filed, whose timeline nothing reads back before the
    COMMIT. The returned entry is then not in the session (nor has its id)."""
    entry = TimelineEntry(case_id=case_id, at=at or utcnow(), kind=kind, text=text, public=public)
    if deferred:
        insert_later(session, TimelineEntry.__table__, [{"case_id": case_id, "at": entry.at, "kind": kind,
                                                         "text": text, "public": public}])
    else:
        session.add(entry)
    return entry


def entries(session: Session, case_id: str, *, include_internal: bool) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.case_id == case_id)
    if not include_internal:
        query = query.where(TimelineEntry.public.is_(True))
    return list(session.scalars(query.order_by(TimelineEntry.at, TimelineEntry.id)))
