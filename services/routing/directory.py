"""The organisation as routing reads it: units by code, the street of a unit, grids, staff on duty."""

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from shared.db import upsert_insert
from shared.errors import ApiError

from .models import Revision, Staff, Unit

DIRECTORY = "directory"  # the Revision of the units and their polygons


def changed(session: Session) -> None:
    """The units or their polygons changed in this transaction: every process rebuilds its grid index
    (locator.cached) once this commits. Whatever writes units calls it."""
    table = Revision.__table__
    stmt = upsert_insert(session)(table).values(name=DIRECTORY, revision=1)
    session.execute(stmt.on_conflict_do_update(index_elements=[table.c.name],
                                               set_={"revision": table.c.revision + 1}))


def revision(session: Session) -> int:
    return session.scalar(select(Revision.revision).where(Revision.name == DIRECTORY)) or 0


def under(path, within: str | tuple[str, ...] | None) -> ColumnElement[bool]:
    """A unit path column (or any path expression) inside one of the subtrees `within` (path
    prefixes): everything when None, nothing when empty."""
    if within is None:
        return true()
    if isinstance(within, str):
        within = (within,)
    return or_(*[path.startswith(p) for p in within]) if within else false()


_HELD = "routing.units"  # session.info: the units this transaction read by id


def unit(session: Session, unit_id: str) -> Unit | None:
    """A unit by id, held for the rest of the transaction: the identity map keeps only weak references,
    so a batch's cases each loaded the same units (with their polygons) again."""
    held = session.info.setdefault(_HELD, {})
    found = held.get(unit_id)
    if found is None:
        found = session.get(Unit, unit_id)
        if found is not None:
            held[unit_id] = found
    return found


def unit_by_code(session: Session, code: str, field: str = "unit_code") -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise ApiError(422, "unit.not_found", field=field)
    return unit


def street_of(session: Session, unit: Unit) -> str | None:
    node = unit
    for _ in range(20):
        if node is None or node.level == "street":
            return node.id if node else None
        node = unit(session, node.parent_id) if node.parent_id else None
    return None


def grids(session: Session) -> tuple[list[Unit], dict[str, Unit]]:
    """Every grid, by code, and their parents by id."""
    rows = list(session.scalars(select(Unit).where(Unit.level == "grid").order_by(Unit.code)))
    parents = {u.id: u for u in session.scalars(
        select(Unit).where(Unit.id.in_({r.parent_id for r in rows if r.parent_id})))}
    return rows, parents


def units(session: Session, level: str | None = None, parent_code: str | None = None,
          limit: int = 5000) -> list[Unit]:
    stmt = select(Unit).order_by(Unit.code)
    if level:
        stmt = stmt.where(Unit.level == level)
    if parent_code:
        stmt = stmt.where(Unit.parent_id == unit_by_code(session, parent_code, "parent_code").id)
    return list(session.scalars(stmt.limit(limit)))


def staff_member(session: Session, user_id: str) -> Staff:
    staff = session.get(Staff, user_id)
    if staff is None:
        raise ApiError(404, "staff.not_found", field="user_id")
    return staff


def set_duty(staff: Staff, on_duty: bool) -> None:
    """On or off duty: only staff on duty are given new work."""
    staff.on_duty = on_duty


def staff_changed(session: Session, *, user_id: str, kind: str, role: str, unit_codes: list[str],
                  active: bool) -> None:
    """identity's directory changed a staff member: new work goes to who is there now. A disabled
    member, or one whose units routing does not know, stays listed (their orders keep their history)
    but off duty; a resident is not staff."""
    if kind != "staff":
        return
    known = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(unit_codes)))} if unit_codes else {}
    unit = next((known[code] for code in unit_codes if code in known), None)  # the primary unit first
    staff = session.get(Staff, user_id)
    if staff is None:
        if unit is None:
            return
        # The name stays with identity (events carry no personal data): routing needs the id and the role.
        staff = Staff(user_id=user_id, name="", role=role, unit_id=unit.id, on_duty=active)
        session.add(staff)
        return
    staff.role = role
    if unit is not None:
        staff.unit_id = unit.id
    staff.on_duty = active and unit is not None
