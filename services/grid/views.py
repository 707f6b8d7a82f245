"""What a reader sees: a patrol, a day, a register entry (personal fields masked for roles without need), a visit."""

from sqlalchemy.orm import Session

from . import config, patrols, register
from .models import Entry, Patrol, Visit
from .schemas import DayView, EntryView, PatrolView, PointView, VisitView


def patrol(session: Session, p: Patrol, with_track: bool = False) -> PatrolView:
    points = [PointView(lat=t.lat, lon=t.lon, at=t.at) for t in patrols.track(session, p)] if with_track else None
    return PatrolView(id=p.id, grid_code=p.grid_code, worker_id=p.worker_id, status=p.status, day=p.day,
                      started_at=p.started_at, finished_at=p.finished_at, distance_m=p.distance_m,
                      point_count=p.point_count, counts=p.counts, finding_ids=patrols.finding_ids(session, p),
                      finding_count=patrols.finding_count(session, p),
                      note=p.note, points=points)


def day(session: Session, summary: dict) -> DayView:
    return DayView(**{**summary, "patrols": [patrol(session, p) for p in summary["patrols"]]})


def entry(e: Entry, masked: bool) -> EntryView:
    category = config.get().category(e.category)
    return EntryView(id=e.id, kind=e.kind, grid_code=e.grid_code, parent_id=e.parent_id, category=e.category,
                     category_name=category.name if category else None, fields=register.shown(e, masked),
                     masked=masked, active=e.active, version=e.version, visit_every_days=e.visit_every_days,
                     visit_due_at=e.visit_due_at, last_visit_at=e.last_visit_at, updated_at=e.updated_at)


def visit(v: Visit, masked: bool, next_due=None, draft: dict | None = None) -> VisitView:
    return VisitView(id=v.id, person_id=v.person_id, grid_code=v.grid_code, category=v.category,
                     worker_id=v.worker_id, visited_at=v.visited_at, note=None if masked else v.note, lat=v.lat,
                     lon=v.lon, help_needed=v.help_needed, next_due_at=next_due, case_draft=draft)
