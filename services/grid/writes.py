"""The grid worker's writes, each one function from (unit of work, user, target, body) to its answer, so a
single request and a queued batch (POST /v1/sync) run exactly the same rule, once per Idempotency-Key."""

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from shared import offline
from shared.auth import User
from shared.db import utcnow
from shared.uow import UnitOfWork

from . import access, patrols, register, views, visits
from .models import Grid, IdempotencyKey
from .schemas import (
    EntryIn,
    EntryPatch,
    FindingsIn,
    PatrolFinish,
    PatrolPoints,
    PatrolStart,
    VisitIn,
)


def start_patrol(uow: UnitOfWork, user: User, _target: str | None, body: PatrolStart):
    grid = access.own_grid(uow, user, body.grid_code, access.PATROLLERS, "write.patrol")
    patrol = patrols.start(uow.session, grid, user.id, offline.when(body.client_at), body.points,
                           body.coord_system, body.note)
    access.audit(uow, "write.patrol", True, "patrol", patrol.id, op="start")
    return views.patrol(uow.session, patrol)


def add_points(uow: UnitOfWork, user: User, patrol_id: str, body: PatrolPoints):
    patrol = access.own_patrol(uow, user, patrol_id, "write.patrol")
    return views.patrol(uow.session, patrols.add_points(uow.session, patrol, body.points, body.coord_system))


def finish_patrol(uow: UnitOfWork, user: User, patrol_id: str, body: PatrolFinish):
    patrol = access.own_patrol(uow, user, patrol_id, "write.patrol")
    grid = uow.session.get(Grid, patrol.grid_code)
    patrols.finish(uow.session, uow.emit, patrol, grid, offline.when(body.client_at), body.points,
                   body.coord_system, body.note)
    return views.patrol(uow.session, patrol)


def add_findings(uow: UnitOfWork, user: User, patrol_id: str, body: FindingsIn):
    patrol = access.own_patrol(uow, user, patrol_id, "write.patrol")
    return views.patrol(uow.session, patrols.attach(uow.session, uow.emit, patrol, body.case_ids))


def create_entry(uow: UnitOfWork, user: User, _target: str | None, body):
    grid = access.own_grid(uow, user, body.grid_code, access.REGISTER_WRITERS, "write.register")
    fields = body.model_dump(exclude={"kind", "grid_code", "parent_id", "client_at"})
    now = utcnow()
    entry = register.create(uow.session, uow.emit, body.kind, grid.code, body.parent_id, fields, user.id, now,
                            offline.when(body.client_at, now))
    access.audit(uow, "write.register", True, "entry", entry.id, op="create")
    return views.entry(entry, masked=access.sight(uow.session, user).masked)


def update_entry(uow: UnitOfWork, user: User, entry_id: str, body: EntryPatch, if_match: int | None = None):
    entry, sight = access.writable_entry(uow, user, entry_id, "write.register")
    now = utcnow()
    register.update(uow.session, uow.emit, entry, body.version if body.version is not None else if_match,
                    body.fields, body.parent_id, body.active, user.id, now, offline.when(body.client_at, now),
                    lambda: views.entry(entry, sight.masked).model_dump(mode="json"))
    return views.entry(entry, sight.masked)


def record_visit(uow: UnitOfWork, user: User, _target: str | None, body: VisitIn):
    if user.role not in access.VISITORS:
        raise access.refuse(uow, "write.visit", 403, "auth.forbidden")
    person, sight = access.readable_entry(uow, user, body.person_id, "write.visit", lock=True)
    if not sight.covers_grid(person.grid_code):  # a department reads its people; it does not visit for the grid
        raise access.refuse(uow, "write.visit", 403, "auth.forbidden", "entry", person.id)
    now = utcnow()
    visit = visits.record(uow.session, uow.emit, person, body, user.id, offline.when(body.client_at, now), now)
    return views.visit(visit, sight.masked, person.visit_due_at, visits.case_draft(visit, body))


@dataclass(frozen=True)
class Write:
    act: Callable
    body: type[BaseModel] | object
    status: int


WRITES: dict[str, Write] = {
    "patrol.start": Write(start_patrol, PatrolStart, 201),
    "patrol.points": Write(add_points, PatrolPoints, 200),
    "patrol.finish": Write(finish_patrol, PatrolFinish, 200),
    "patrol.findings": Write(add_findings, FindingsIn, 200),
    "visit.record": Write(record_visit, VisitIn, 201),
    "register.create": Write(create_entry, EntryIn, 201),
    "register.update": Write(update_entry, EntryPatch, 200),
}


def run(uow: UnitOfWork, user: User, op: str, key: str | None, target: str | None, body, **extra):
    """(status, answer, replayed) of one write, once per key."""
    write = WRITES[op]
    return offline.once(uow.session, IdempotencyKey, user.id, key, op, target, body,
                        lambda: write.act(uow, user, target, body, **extra), write.status)
