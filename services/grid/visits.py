"""Care visits (走访): recorded with a note (sealed) and a place; the next one due by the category's rule.

A visit that finds the person needs help (求助) does not file a case itself: intake owns cases and takes them
from the worker's phone (POST /intake/v1/cases, channel grid_patrol), with the worker as reporter and the
phone's own Idempotency-Key. The visit's answer carries that body (`case_draft`): no name, phone or note of
the person in it, which the worker adds only as far as the case needs. Why not an event intake consumes: intake
has no such consumer, a case filed by an event would have no reporter to tell, and the phone is online anyway
when the answer arrives."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events.grid import VisitRecorded
from shared.uow import Emit

from . import config
from .models import Entry, Visit
from .patrols import located
from .schemas import VisitIn


def record(session: Session, emit: Emit, person: Entry, body: VisitIn, worker_id: str, at: datetime,
           now: datetime) -> Visit:
    if person.kind != "person":
        raise ApiError(422, "visit.not_person", field="person_id")
    point = located(body.lat, body.lon, body.coord_system)
    visit = Visit(person_id=person.id, grid_code=person.grid_code, category=person.category, worker_id=worker_id,
                  visited_at=at, note=body.note, lat=point[0] if point else None, lon=point[1] if point else None,
                  help_needed=body.help_needed, received_at=now)
    session.add(visit)
    # A visit replayed late never moves the next one earlier than a later visit already did.
    if person.last_visit_at is None or at > person.last_visit_at:
        person.last_visit_at = at
        if person.visit_every_days:
            person.visit_due_at = at + timedelta(days=person.visit_every_days)
            person.overdue_warned_at = None
    session.flush()
    emit(VisitRecorded(visit_id=visit.id, person_id=person.id, grid_code=person.grid_code, worker_id=worker_id,
                       visited_at=at, help_needed=body.help_needed))
    return visit


def case_draft(visit: Visit, body: VisitIn) -> dict | None:
    if not visit.help_needed:
        return None
    category = config.get().category(visit.category)
    what = body.help_text or "走访中发现需要帮助"
    return {"category": config.get().rules.help_category, "appeal_type": "求助", "channel": "grid_patrol",
            "description": f"网格员走访{category.name if category else ''}对象时发现：{what}",
            "lat": visit.lat, "lon": visit.lon, "coord_system": "wgs84" if visit.lat is not None else None}


def due(session: Session, condition, until: datetime, limit: int) -> list[Entry]:
    return list(session.scalars(select(Entry).where(condition, Entry.kind == "person", Entry.active.is_(True),
                                                    Entry.visit_due_at.is_not(None), Entry.visit_due_at <= until)
                                .order_by(Entry.visit_due_at).limit(limit)))
