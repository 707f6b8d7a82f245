"""Who may see and do what in the grid service; every read of the register and every refusal audited.

The register holds sensitive personal information (特殊人群: community correction, drug rehabilitation, severe
mental disorder; 关爱对象: the elderly living alone, the disabled). It is visible only to:

| who | sees | does |
|---|---|---|
| grid worker | her grid(s): patrols, days, register, visits — in full | patrols; register edits; visits |
| community staff | the grids of her community — in full | register edits; visits |
| street dispatcher, supervisor | the grids of their subtrees — personal fields masked | reads, ledgers |
| admin | every grid — personal fields masked | reads, ledgers |
| department handler | ONLY the people of its categories, anywhere — in full; nothing else | reads of them |
| operator, mediator, resident | nothing: lists 403, a record 404 | nothing |

A record out of scope is 404 (its existence is not revealed), the refusal an entry of the trail. Personal
fields are masked with shared/masking.py for the roles without need (oversight sees who is on a list, not how to
reach them). A department's categories: its type (data/departments.json) → categories.json. Ledgers and
statistics: grid workers, community, street, supervisors and admins, their own area.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import Session

from shared import audit as trail
from shared.auth import User
from shared.errors import ApiError
from shared.uow import UnitOfWork

from . import config, directory
from .models import Entry, Grid, Patrol

AREA_ROLES = frozenset({"grid_worker", "community_staff", "street_dispatcher", "supervisor", "admin"})
REGISTER_WRITERS = frozenset({"grid_worker", "community_staff"})
VISITORS = frozenset({"grid_worker", "community_staff"})
PATROLLERS = frozenset({"grid_worker"})
# Who needs to reach the people on the register: the grid's worker, the community, the responsible department.
UNMASKED = frozenset({"grid_worker", "community_staff", "department_handler"})
DEPARTMENT = "department_handler"


@dataclass(frozen=True)
class Sight:
    """What a user reaches: grids (None: all of them) and, for a department, categories of people."""

    role: str
    grids: frozenset[str] | None
    categories: frozenset[str]

    @property
    def masked(self) -> bool:
        return self.role not in UNMASKED

    def covers_grid(self, code: str) -> bool:
        return self.grids is None or code in self.grids

    def sees(self, entry: Entry) -> bool:
        if self.role == DEPARTMENT:
            return entry.kind == "person" and entry.category in self.categories
        return self.covers_grid(entry.grid_code)

    def entries(self) -> ColumnElement[bool]:
        """The register entries in sight, as a query filter."""
        if self.role == DEPARTMENT:
            return and_(Entry.kind == "person", Entry.category.in_(sorted(self.categories))) \
                if self.categories else false()
        return true() if self.grids is None else Entry.grid_code.in_(sorted(self.grids))


def units(user: User) -> tuple[str, ...]:
    return tuple(user.unit_codes) or ((user.unit_code,) if user.unit_code else ())


def sight(session: Session, user: User) -> Sight:
    """The user's sight, found once per transaction."""
    known = session.info.setdefault("grid.sights", {})
    if user not in known:
        if user.role == "admin":
            grids = None
        elif user.role in AREA_ROLES:
            grids = frozenset(directory.reachable(session, units(user)))
        else:
            grids = frozenset()
        categories = config.get().categories_of_department(units(user)) if user.role == DEPARTMENT \
            else frozenset()
        known[user] = Sight(user.role, grids, categories)
    return known[user]


def audit(uow: UnitOfWork, action: str, allowed: bool, kind: str | None = None, subject: str | None = None,
          **detail) -> None:
    uow.audit(action, subject_kind=kind, subject_id=subject, detail={"allowed": allowed, **detail})


def refuse(uow: UnitOfWork, action: str, status: int, code: str, kind: str | None = None,
           subject: str | None = None, field: str | None = None) -> ApiError:
    """A refusal, audited in the service's own words and kept when the request rolls back."""
    audit(uow, action, False, kind, subject)
    return trail.recorded(ApiError(status, code, field=field, keep=True))


# ---- grids, patrols ------------------------------------------------------------------------------


def area_reader(uow: UnitOfWork, user: User, action: str) -> Sight:
    """Lists and views of grids and patrols: the area roles (403 otherwise)."""
    if user.role not in AREA_ROLES:
        raise refuse(uow, action, 403, "auth.forbidden")
    return sight(uow.session, user)


def readable_grid(uow: UnitOfWork, user: User, grid_code: str, action: str) -> Grid:
    s = sight(uow.session, user)
    grid = uow.session.get(Grid, grid_code)
    if grid is None or user.role not in AREA_ROLES or not s.covers_grid(grid.code):
        raise refuse(uow, action, 404, "grid.not_found", "grid", grid_code if grid else None, "grid_code")
    return grid


def own_grid(uow: UnitOfWork, user: User, grid_code: str | None, roles: frozenset[str], action: str) -> Grid:
    """The grid a grid worker (or community staff) writes in: the one named, or her only one."""
    if user.role not in roles:
        raise refuse(uow, action, 403, "auth.forbidden")
    mine = sorted(sight(uow.session, user).grids or ())
    if grid_code is None:
        if len(mine) != 1:
            raise ApiError(422, "grid.ambiguous" if mine else "grid.not_yours", field="grid_code")
        grid_code = mine[0]
    if grid_code not in mine:
        raise refuse(uow, action, 403, "grid.not_yours", "grid", None, "grid_code")
    return uow.session.get(Grid, grid_code)


def readable_patrol(uow: UnitOfWork, user: User, patrol_id: str, action: str, lock: bool = False) -> Patrol:
    # A queued batch may name no patrol (a target left out): that is no patrol, not a query for one.
    patrol = uow.session.get(Patrol, patrol_id, with_for_update=lock) if patrol_id else None
    s = sight(uow.session, user)
    if patrol is None or user.role not in AREA_ROLES or not s.covers_grid(patrol.grid_code):
        raise refuse(uow, action, 404, "patrol.not_found", "patrol", patrol.id if patrol else None, "patrol_id")
    audit(uow, action, True, "patrol", patrol.id)
    return patrol


def own_patrol(uow: UnitOfWork, user: User, patrol_id: str, action: str) -> Patrol:
    patrol = readable_patrol(uow, user, patrol_id, action, lock=True)
    if patrol.worker_id != user.id:
        raise refuse(uow, action, 403, "patrol.not_yours", "patrol", patrol.id)
    return patrol


# ---- the register --------------------------------------------------------------------------------


def register_reader(uow: UnitOfWork, user: User, action: str) -> Sight:
    """Lists of the register: the area roles and departments (403 otherwise)."""
    if user.role not in AREA_ROLES and user.role != DEPARTMENT:
        raise refuse(uow, action, 403, "register.forbidden")
    return sight(uow.session, user)


def readable_entry(uow: UnitOfWork, user: User, entry_id: str, action: str, lock: bool = False) -> tuple[Entry, Sight]:
    """An entry of the register and the reader's sight; 404 for anyone who may not see it. Audited either way."""
    entry = uow.session.get(Entry, entry_id, with_for_update=lock)
    s = sight(uow.session, user)
    if entry is None or not (user.role in AREA_ROLES or user.role == DEPARTMENT) or not s.sees(entry):
        raise refuse(uow, action, 404, "register.not_found", "entry", entry.id if entry else None, "entry_id")
    audit(uow, action, True, "entry", entry.id, masked=s.masked)
    return entry, s


def writable_entry(uow: UnitOfWork, user: User, entry_id: str, action: str) -> tuple[Entry, Sight]:
    entry, s = readable_entry(uow, user, entry_id, action, lock=True)
    if user.role not in REGISTER_WRITERS:
        raise refuse(uow, action, 403, "register.forbidden", "entry", entry.id)
    return entry, s


def ledger_reader(uow: UnitOfWork, user: User, action: str) -> Sight:
    if user.role not in AREA_ROLES:
        raise refuse(uow, action, 403, "ledger.forbidden")
    return sight(uow.session, user)


def grid_filter(s: Sight, column) -> ColumnElement[bool]:
    return true() if s.grids is None else (column.in_(sorted(s.grids)) if s.grids else false())


def in_any(*conditions) -> ColumnElement[bool]:
    return or_(*conditions)
