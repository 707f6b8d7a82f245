"""Patrols (巡查): started and finished on the phone with a track, findings attached, the daily rule (一日双巡).

Distance is the track's length: consecutive fixes in the phone's time order, great-circle distance between them
(shared.geo.distance_m; the points arrive in WGS-84, converted from GCJ-02 / BD-09 by shared.geo). A patrol
counts towards the rule once finished and at least `min_minutes` long (data/patrol.json).
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import geo
from shared.config import local_zone
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.grid import PatrolFinished, PatrolRecounted
from shared.offline import SKEW
from shared.uow import Emit

from . import config
from .models import Finding, Grid, GridReport, Patrol, PatrolDay, PatrolPoint
from .schemas import PointIn


def local_day(at: datetime) -> str:
    return at.astimezone(local_zone()).date().isoformat()


def located(lat: float | None, lon: float | None, coord_system: str | None) -> tuple[float, float] | None:
    """A point the client sent, in WGS-84, inside the service area (shared.geo's one rule)."""
    return geo.point(lat, lon, coord_system, config.get().patrol.service_area, prefix="grid")


def _add_points(session: Session, patrol: Patrol, points: list[PointIn], coord_system: str | None,
                now: datetime) -> None:
    rule = config.get().patrol
    if len(points) > rule.max_points_per_request:
        raise ApiError(422, "patrol.too_many_points", field="points")
    latest = patrol.started_at + timedelta(hours=rule.max_open_hours)
    for i, p in enumerate(points):
        if not (patrol.started_at - SKEW <= p.at <= min(now + SKEW, latest)):
            raise ApiError(422, "patrol.bad_time", field=f"points.{i}.at")
        lat, lon = located(p.lat, p.lon, coord_system)
        session.add(PatrolPoint(patrol_id=patrol.id, lat=lat, lon=lon, at=p.at))
    if points:
        session.flush()
        _measure(session, patrol)


def _measure(session: Session, patrol: Patrol) -> None:
    track = session.execute(select(PatrolPoint.lat, PatrolPoint.lon).where(PatrolPoint.patrol_id == patrol.id)
                            .order_by(PatrolPoint.at, PatrolPoint.id)).all()
    patrol.point_count = len(track)
    patrol.distance_m = round(sum(geo.distance_m(a.lat, a.lon, b.lat, b.lon)
                                  for a, b in zip(track, track[1:], strict=False)), 1)


def start(session: Session, grid: Grid, worker_id: str, at: datetime, points: list[PointIn],
          coord_system: str | None, note: str | None) -> Patrol:
    now = utcnow()
    since = at - timedelta(hours=config.get().patrol.max_open_hours)
    if session.scalar(select(Patrol.id).where(Patrol.worker_id == worker_id, Patrol.status == "open",
                                              Patrol.started_at > since)):
        raise ApiError(409, "patrol.open")
    patrol = Patrol(grid_code=grid.code, worker_id=worker_id, status="open", started_at=at, day=local_day(at),
                    note=note, received_at=now)
    session.add(patrol)
    session.flush()
    _add_points(session, patrol, points, coord_system, now)
    return patrol


def add_points(session: Session, patrol: Patrol, points: list[PointIn], coord_system: str | None) -> Patrol:
    if patrol.status != "open":
        raise ApiError(409, "patrol.finished")
    _add_points(session, patrol, points, coord_system, utcnow())
    return patrol


def finish(session: Session, emit: Emit, patrol: Patrol, grid: Grid, at: datetime, points: list[PointIn],
           coord_system: str | None, note: str | None) -> Patrol:
    if patrol.status != "open":
        raise ApiError(409, "patrol.finished")
    rule = config.get().patrol
    if not patrol.started_at <= at <= patrol.started_at + timedelta(hours=rule.max_open_hours):
        raise ApiError(422, "patrol.bad_time", field="client_at")
    _add_points(session, patrol, points, coord_system, utcnow())
    patrol.status, patrol.finished_at = "finished", at
    patrol.note = note or patrol.note
    patrol.counts = at - patrol.started_at >= timedelta(minutes=rule.min_minutes)
    emit(PatrolFinished(**_as_finished(patrol, grid, finding_count(session, patrol))))
    return patrol


def _as_finished(patrol: Patrol, grid: Grid, findings: int) -> dict:
    return dict(patrol_id=patrol.id, grid_code=patrol.grid_code, grid_id=grid.unit_id, worker_id=patrol.worker_id,
                day=patrol.day, started_at=patrol.started_at, finished_at=patrol.finished_at,
                distance_m=patrol.distance_m, finding_count=findings, counts=patrol.counts)


def attach(session: Session, emit: Emit, patrol: Patrol, case_ids: list[str]) -> Patrol:
    """Links cases the worker reported on this patrol. A case intake already told us about must be hers (an
    event may arrive after the phone's link: then the link stands, uncounted until it comes; see confirm).
    A phone that synced late links after the finish: routing hears the new count (PatrolRecounted)."""
    seen: set[str] = set()
    before = finding_count(session, patrol)
    for i, case_id in enumerate(c.lower() for c in case_ids):
        if case_id in seen:
            raise ApiError(422, "finding.duplicate", field=f"case_ids.{i}")
        seen.add(case_id)
        linked = session.get(Finding, case_id)
        if linked is not None:
            if linked.patrol_id != patrol.id:
                raise ApiError(409, "finding.taken", field=f"case_ids.{i}")
            continue
        report = session.get(GridReport, case_id)
        if report is not None and report.reporter_id != patrol.worker_id:
            raise ApiError(403, "finding.not_yours", field=f"case_ids.{i}")
        session.add(Finding(case_id=case_id, patrol_id=patrol.id))
    session.flush()
    _recount(session, emit, patrol, before)
    return patrol


def confirm(session: Session, emit: Emit, report: GridReport) -> None:
    """Intake's event for a case the phone linked first: the link counts if the worker filed it, and goes if
    someone else did (it never could have been her finding)."""
    linked = session.get(Finding, report.case_id)
    patrol = session.get(Patrol, linked.patrol_id) if linked is not None else None
    if patrol is None:
        return
    if report.reporter_id != patrol.worker_id:
        session.delete(linked)
        session.flush()
        return
    _recount(session, emit, patrol, finding_count(session, patrol) - 1)


def _recount(session: Session, emit: Emit, patrol: Patrol, before: int) -> None:
    # Routing counted the patrol's findings when it finished; a change after that must reach it too, or the
    # grid's figures and routing's grid_work disagree.
    if patrol.status != "finished":
        return
    now = finding_count(session, patrol)
    if now != before:
        emit(PatrolRecounted(**_as_finished(patrol, session.get(Grid, patrol.grid_code), now)))


def counted(query):
    """`query` (from Finding) narrowed to the findings that count: cases intake confirmed the patrol's worker
    filed on patrol (channel grid_patrol: a GridReport). An id naming no such case (a resident's case, a
    made-up id) stays linked but never counts."""
    return (query.join(Patrol, Patrol.id == Finding.patrol_id).join(GridReport, GridReport.case_id == Finding.case_id)
            .where(GridReport.reporter_id == Patrol.worker_id))


def finding_count(session: Session, patrol: Patrol) -> int:
    return session.scalar(counted(select(func.count()).select_from(Finding)).where(Finding.patrol_id == patrol.id)) or 0


def finding_ids(session: Session, patrol: Patrol) -> list[str]:
    return list(session.scalars(select(Finding.case_id).where(Finding.patrol_id == patrol.id)
                                .order_by(Finding.added_at, Finding.case_id)))


def track(session: Session, patrol: Patrol) -> list[PatrolPoint]:
    return list(session.scalars(select(PatrolPoint).where(PatrolPoint.patrol_id == patrol.id)
                                .order_by(PatrolPoint.at, PatrolPoint.id)))


def of_day(session: Session, grid_code: str, day: str) -> list[Patrol]:
    return list(session.scalars(select(Patrol).where(Patrol.grid_code == grid_code, Patrol.day == day)
                                .order_by(Patrol.started_at)))


def day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=local_zone())
    return start, start + timedelta(days=1)


def self_resolved(session: Session, grid_code: str, start: datetime, end: datetime) -> int:
    return session.scalar(select(func.count()).select_from(GridReport).where(
        GridReport.grid_code == grid_code, GridReport.self_resolved.is_(True),
        GridReport.submitted_at >= start, GridReport.submitted_at < end)) or 0


def day_summary(session: Session, grid: Grid, day: str) -> dict:
    patrols = of_day(session, grid.code, day)
    required = config.get().patrol.required(grid.code)
    done = sum(1 for p in patrols if p.counts)
    checked = session.get(PatrolDay, (grid.code, day))
    status = checked.status if checked is not None else "pending"
    findings = session.scalar(counted(select(func.count()).select_from(Finding))
                              .where(Finding.patrol_id.in_([p.id for p in patrols]))) or 0
    return {"grid_code": grid.code, "grid_name": grid.name, "day": day, "required": required, "done": done,
            "met": done >= required, "status": status, "distance_m": round(sum(p.distance_m for p in patrols), 1),
            "findings": findings, "self_resolved": self_resolved(session, grid.code, *day_bounds(day)),
            "patrols": patrols}
