"""The organisation as routing reads it: units by code, the street of a unit, grids, staff on duty."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError

from .models import Staff, Unit


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
        node = session.get(Unit, node.parent_id) if node.parent_id else None
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
