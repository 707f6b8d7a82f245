"""Who may see and do what: a user's unit, the subtree below it, and the checks every endpoint makes.

A user is in scope of a work order when their unit is above the order's unit in the organisation
(or above the street where the case is); an admin is in scope of everything. Unit paths are
"/code/.../", so a subtree is a prefix.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.errors import ApiError

from .models import RoutingCase, Staff, Unit, WorkOrder

SUPERVISORS = frozenset({"supervisor", "admin"})
DISPATCHERS = frozenset({"street_dispatcher", "supervisor", "admin", "operator"})
VERIFIERS = frozenset({"street_dispatcher", "community_staff", "supervisor", "admin"})
WHISTLERS = frozenset({"street_dispatcher", "community_staff", "supervisor", "admin"})
SCORE_READERS = SUPERVISORS | {"street_dispatcher", "community_staff", "operator"}
DUTY_SETTERS = SUPERVISORS | {"street_dispatcher"}
OVERDUE_READERS = SUPERVISORS | {"street_dispatcher"}
WATCH_READERS = SUPERVISORS | {"street_dispatcher", "community_staff"}

# Matches no unit path (they are "/code/.../"): a user with no known unit sees nothing. Not "\x00",
# which PostgreSQL refuses in a text parameter.
NOWHERE = "//"


def staff_unit(session: Session, user: User) -> Unit | None:
    staff = session.get(Staff, user.id)
    if staff is not None:
        return session.get(Unit, staff.unit_id)
    if user.unit_code:
        return session.scalars(select(Unit).where(Unit.code == user.unit_code)).first()
    return None


def in_scope(session: Session, user: User, order: WorkOrder) -> bool:
    """Above the order's unit in the tree (or above the street where the case is)."""
    if user.role == "admin":
        return True
    mine = staff_unit(session, user)
    if mine is None or not mine.path:
        return False
    unit = session.get(Unit, order.unit_id)
    street = session.get(Unit, order.street_id) if order.street_id else None
    return any(u is not None and u.path and u.path.startswith(mine.path) for u in (unit, street))


def scope_path(session: Session, user: User) -> str | None:
    """The subtree a user's lists and exports are limited to; None for the whole tree (admin or
    the root unit)."""
    if user.role == "admin":
        return None
    mine = staff_unit(session, user)
    if mine is None or not mine.path:
        return NOWHERE
    return None if mine.parent_id is None else mine.path


def own_subtree(session: Session, user: User) -> str | None:
    """The path of the user's own unit (NOWHERE when unknown); None for an admin."""
    if user.role == "admin":
        return None
    mine = staff_unit(session, user)
    return mine.path if mine and mine.path else NOWHERE


def require_role(user: User, roles: frozenset[str]) -> None:
    if user.role not in roles:
        raise ApiError(403, "auth.forbidden")


def require_handler(session: Session, user: User, order: WorkOrder) -> None:
    """The order's assignee, or staff of its unit."""
    if user.role == "admin" or order.assignee_id == user.id:
        return
    staff = session.get(Staff, user.id)
    if staff is None or staff.unit_id != order.unit_id:
        raise ApiError(403, "workorder.not_yours")


def require_scope(session: Session, user: User, order: WorkOrder, roles: frozenset[str]) -> None:
    require_role(user, roles)
    if not in_scope(session, user, order):
        raise ApiError(403, "workorder.out_of_scope")


def require_reader(session: Session, user: User, order: WorkOrder) -> None:
    """Who may read a work order: its assignee, its unit's staff, anyone above it."""
    staff = session.get(Staff, user.id)
    if not (order.assignee_id == user.id or (staff and staff.unit_id == order.unit_id)
            or in_scope(session, user, order)):
        raise ApiError(403, "workorder.out_of_scope")


def require_whistler(session: Session, user: User, order: WorkOrder) -> None:
    """吹哨 is for the unit handling the order, or a unit above it, in a role that may call."""
    require_role(user, WHISTLERS)
    if not in_scope(session, user, order):
        require_handler(session, user, order)


def require_designator(session: Session, user: User, rc: RoutingCase) -> None:
    """A supervisor designates the owner of a case whose last lead order is in their subtree."""
    last = session.get(WorkOrder, rc.lead_work_order_id) if rc.lead_work_order_id else None
    if not (user.role == "admin" or (last is not None and in_scope(session, user, last))):
        raise ApiError(403, "workorder.out_of_scope", field="case_id")


def require_duty_setter(session: Session, user: User, staff: Staff) -> None:
    """Staff set their own duty; a dispatcher or supervisor that of staff in their subtree."""
    if user.id == staff.user_id:
        return
    require_role(user, DUTY_SETTERS)
    path, unit = scope_path(session, user), session.get(Unit, staff.unit_id)
    if path is not None and not (unit is not None and (unit.path or "").startswith(path)):
        raise ApiError(403, "workorder.out_of_scope", field="user_id")


def ledger_subtree(session: Session, user: User, unit: Unit | None) -> str | None:
    """The subtree a ledger export covers: the unit asked for, which must be in the user's own."""
    path = scope_path(session, user)
    if unit is None:
        return path
    if path is not None and not (unit.path or "").startswith(path):
        raise ApiError(403, "workorder.out_of_scope", field="unit_code")
    return unit.path
