"""Who must hear about a stalled case: the supervisors nearest above it.

Designation (指定) is a supervisor's (access.py: `POST /cases/{case_id}/designate` is for
supervisors and admins whose scope is above the case), so a case waiting for it is announced to the
supervisors of the nearest unit above the case that has any on duty, never to community staff who
could not act on it. The same people hear that a department ignored their street's whistle.

The lowest module of the rules besides journal: it reads the directory only.
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import config
from .models import Staff, Unit

# The role that designates and decides: the supervisors of levels.json's designating level and above.
SUPERVISOR = "supervisor"


def chain(session: Session, unit_ids: Iterable[str | None]) -> list[Unit]:
    """The units and all units above them, finest first (the deepest unit first), each once."""
    found: dict[str, Unit] = {}
    for unit_id in unit_ids:
        node = session.get(Unit, unit_id) if unit_id else None
        for _ in range(32):  # the tree is a few levels deep; a broken parent link must not loop
            if node is None or node.id in found:
                break
            found[node.id] = node
            node = session.get(Unit, node.parent_id) if node.parent_id else None
    return sorted(found.values(), key=lambda u: (-u.depth, u.code))


def supervisors_at(session: Session, unit: Unit) -> list[str]:
    return list(session.scalars(select(Staff.user_id).where(
        Staff.unit_id == unit.id, Staff.role == SUPERVISOR, Staff.on_duty.is_(True)).order_by(Staff.user_id)))


def nearest_supervisors(session: Session, unit_ids: Iterable[str | None]) -> tuple[Unit | None, list[str]]:
    """The nearest unit at or above any of `unit_ids` with supervisors on duty, and them; when none
    has any, the designating level's unit above them (else the coarsest) and nobody."""
    units = chain(session, unit_ids)
    for unit in units:
        found = supervisors_at(session, unit)
        if found:
            return unit, found
    level = config.get().levels.designating_level
    fallback = next((u for u in units if u.level == level), units[-1] if units else None)
    return fallback, []


def designators(session: Session, matter_class: str | None, unit_ids: Iterable[str | None]
                ) -> tuple[Unit | None, list[str]]:
    """Who designates (指定) a case whose last order and place are `unit_ids`: for a 大事, whose returns
    walk up to levels.json's designating level, the supervisors of that level's unit above the case
    (else the nearest coarser unit with any on duty; nobody when none has any); for any other case the
    nearest supervisors above it (`nearest_supervisors`)."""
    if matter_class != "大事":
        return nearest_supervisors(session, unit_ids)
    units = chain(session, unit_ids)
    level = config.get().levels.designating_level
    top = next((u for u in units if u.level == level), None)
    if top is None:
        return nearest_supervisors(session, unit_ids)
    for unit in (u for u in units if u.depth <= top.depth):
        found = supervisors_at(session, unit)
        if found:
            return unit, found
    return top, []
