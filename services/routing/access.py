"""Who may see and do what in routing: one policy, from the token's role and ALL its units.

A user's **scope** is the set of units their token names (`User.unit_codes`, every one of them; the
staff directory's unit only when the token names none) and the subtrees below them. Unit paths are
"/code/.../", so a subtree is one prefix match, and every list, read, write, export and statistic
filters its query with the scope:

- resident, mediator, operator: read no work order (404) and no list of them (403). An operator
  (12345 话务员) takes calls and files cases; she follows the cases she took in intake, which
  mirrors their routing status. Routing is never told who took a case, and she neither handles,
  dispatches, reassigns nor closes work (a dispatch desk re-routing orders is a street dispatcher
  or a supervisor, with a unit and a subtree), so she reads the scores and rankings of her subtree
  and nothing order by order.
- grid_worker, community_staff, street_dispatcher, supervisor, department_handler: read the orders
  assigned to them, of a unit in their subtrees, and those one of their units was whistled for (a
  department: its own unit(s)' orders and its whistles); community staff, street dispatchers and
  supervisors (`AREA_READERS`, as intake's area roles) also those of a case located in their
  subtrees (its street, or the finest area holding it: a grid of their community), whoever
  handles it. Their lists and statistics cover their subtrees (the whole tree for staff of the
  root unit), as each list's roles allow.
- admin: everything.

What they may do, once they can read the order (a role that may never do it: 403 `auth.forbidden`;
an order they may read but not act on: 403 with the reason):
- sign, contact, resolve, return, ask for an extension: a handling role, as the order's assignee or
  staff of its unit (`workorder.not_yours`);
- verify, close, reassign, supervise, exclude, decide an extension, designate: the role, and the
  order's unit (or, for `AREA_READERS`, where its case is) in their subtrees (`workorder.out_of_scope`);
- whistle: the role, and above the order or its handler; report: a department whistled for it;
- answer a suggestion or give guidance on a private matter: as sign (a handling role of the unit);
- approve an extension beyond the order's cap (clocks.json `extensions`), publish the responsibility
  list, load the holiday notices: the district level only (`district_level`: an admin, or a
  supervisor of the root unit).

Cases waiting for 指定 are listed (`GET /v1/designations`) for those who may designate them
(`DESIGNATORS`: supervisors and admins), limited to those whose last order they stand above
(`above_orders`, as `designate`).

Personal data: the requester stays hidden on a confidential (保密) order, on an assisting order and
from a department that reads an order only because it was whistled for it; phones and ID numbers
typed into free text are masked for every reader but supervisors and admins.
"""

from dataclasses import dataclass
from functools import partial

from sqlalchemy import ColumnElement, Table, false, or_, select, true
from sqlalchemy.orm import Session

from shared.audit_api import about as audit_about
from shared.auth import STAFF_ROLES, User
from shared.errors import ApiError

from . import config
from .directory import under
from .models import RoutingCase, Staff, Unit, Whistle, WorkOrder

SUPERVISORS = frozenset({"supervisor", "admin"})
# Every role that works with work orders at all: mediators, operators and residents read none.
ORDER_ROLES = frozenset(STAFF_ROLES) - {"mediator", "operator"}
DISPATCHERS = frozenset({"street_dispatcher", "supervisor", "admin"})
# Who also reads (and acts from above on) the orders of cases located in their subtrees, whoever
# handles them: the same roles as intake's area roles, so both services show them the same cases.
AREA_READERS = frozenset({"community_staff", "street_dispatcher", "supervisor"})
VERIFIERS = frozenset({"street_dispatcher", "community_staff", "supervisor", "admin"})
WHISTLERS = frozenset({"street_dispatcher", "community_staff", "supervisor", "admin"})
REPORTERS = frozenset({"department_handler"})
SCORE_READERS = SUPERVISORS | {"street_dispatcher", "community_staff", "operator"}
# The ledger lists work orders one by one: only the score readers who read work orders.
LEDGER_READERS = SCORE_READERS & ORDER_ROLES
DUTY_SETTERS = SUPERVISORS | {"street_dispatcher"}
OVERDUE_READERS = SUPERVISORS | {"street_dispatcher"}
# Cases waiting for 指定: exactly those who may designate them (`POST /cases/{id}/designate`); street
# dispatchers, who may not, see the same cases on the overdue list once their clock passes.
DESIGNATORS = SUPERVISORS
DESIGNATION_READERS = DESIGNATORS
WATCH_READERS = SUPERVISORS | {"street_dispatcher", "community_staff"}
# Who reads phones and ID numbers typed into free text unmasked.
PERSONAL_TEXT_READERS = SUPERVISORS


def handlers() -> frozenset[str]:
    """The roles that take work landing on a unit (data/levels.json), and the admin."""
    levels = config.get().levels
    return frozenset(lv.handler_role for lv in levels.area_levels + levels.unit_levels) | {"admin"}


@dataclass(frozen=True)
class Scope:
    """What a user reaches: `everything` (an admin, or staff of the root unit), else their own units
    and the subtrees below them (empty for a role that reads neither work orders nor statistics, or
    unknown units). Which orders a role reads of it is `visible_orders`."""

    user_id: str
    role: str
    everything: bool
    unit_ids: frozenset[str]
    paths: tuple[str, ...]

    @property
    def within(self) -> tuple[str, ...] | None:
        """The subtrees a list or statistic is limited to; None for the whole tree."""
        return None if self.everything else self.paths

    def covers(self, unit: Unit | None) -> bool:
        if self.everything:
            return True
        return unit is not None and (unit.id in self.unit_ids or
                                     any((unit.path or "").startswith(p) for p in self.paths))


def user_units(session: Session, user: User) -> list[Unit]:
    """Every unit the token names (the primary first); the directory's unit when it names none."""
    codes = list(user.unit_codes) or ([user.unit_code] if user.unit_code else [])
    if codes:
        found = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
        return [found[c] for c in dict.fromkeys(codes) if c in found]
    staff = session.get(Staff, user.id)
    unit = session.get(Unit, staff.unit_id) if staff is not None else None
    return [unit] if unit is not None else []


def scope(session: Session, user: User) -> Scope:
    """The user's scope, found once per transaction (every check of a request shares it)."""
    known = session.info.setdefault("routing.scopes", {})
    if user not in known:
        known[user] = _scope(session, user)
    return known[user]


def _scope(session: Session, user: User) -> Scope:
    if user.role == "admin":
        return Scope(user.id, user.role, True, frozenset(), ())
    if user.role not in ORDER_ROLES | SCORE_READERS:  # an operator's units bound her statistics
        return Scope(user.id, user.role, False, frozenset(), ())
    units = user_units(session, user)
    return Scope(user.id, user.role, any(u.parent_id is None and u.path for u in units),
                 frozenset(u.id for u in units), tuple(u.path for u in units if u.path))


# --------------------------------------------------------------------------- work orders


def visible_orders(s: Scope) -> ColumnElement[bool]:
    """The query filter of the work orders a scope reads (none for a role that reads no orders, even
    of the root unit: an operator's scope bounds her statistics only)."""
    if s.role not in ORDER_ROLES:
        return false()
    if s.everything:
        return true()
    in_subtree = select(Unit.id).where(or_(Unit.id.in_(s.unit_ids), under(Unit.path, s.paths)))
    whistled = select(Whistle.work_order_id).where(Whistle.department_unit_id.in_(s.unit_ids))
    reach = [WorkOrder.assignee_id == s.user_id, WorkOrder.unit_id.in_(in_subtree), WorkOrder.id.in_(whistled)]
    if s.role in AREA_READERS:  # where the case is: its street, or the finest area holding it
        reach += [WorkOrder.street_id.in_(in_subtree), WorkOrder.area_id.in_(in_subtree)]
    return or_(*reach)


def readable_order(session: Session, user: User, order_id: str, lock: bool = False) -> WorkOrder:
    """The work order when the user may read it; 404 when it does not exist or is out of scope
    (the same answer: existence is not revealed)."""
    stmt = select(WorkOrder).where(WorkOrder.id == order_id, visible_orders(scope(session, user)))
    order = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if order is None:
        raise ApiError(404, "workorder.not_found", field="work_order_id")
    return order


def above(session: Session, s: Scope, order: WorkOrder) -> bool:
    """The order's unit lies in the scope's subtrees, or (for `AREA_READERS`) the place of its case:
    its street or the finest area holding it."""
    if s.role not in ORDER_ROLES:
        return False
    if s.everything:
        return True
    places = (order.unit_id, order.street_id, order.area_id) if s.role in AREA_READERS else (order.unit_id,)
    return any(s.covers(session.get(Unit, uid)) for uid in dict.fromkeys(places) if uid)


def above_orders(s: Scope) -> ColumnElement[bool]:
    """`above` as a query filter on WorkOrder: the order's unit in the scope's subtrees, or (for
    `AREA_READERS`) where its case is. The cases waiting for 指定 a supervisor may designate."""
    if s.role not in ORDER_ROLES:
        return false()
    if s.everything:
        return true()
    in_subtree = select(Unit.id).where(or_(Unit.id.in_(s.unit_ids), under(Unit.path, s.paths)))
    reach = [WorkOrder.unit_id.in_(in_subtree)]
    if s.role in AREA_READERS:
        reach += [WorkOrder.street_id.in_(in_subtree), WorkOrder.area_id.in_(in_subtree)]
    return or_(*reach)


def district_level(session: Session, user: User) -> bool:
    """The district level: an admin, or a supervisor of the root unit (whose scope is everything).
    Only they approve an extension beyond the order's cap."""
    return user.role == "admin" or (user.role == "supervisor" and scope(session, user).everything)


def handles(s: Scope, order: WorkOrder) -> bool:
    """The order's assignee, or staff of its unit; an admin acts for anyone."""
    return s.role == "admin" or order.assignee_id == s.user_id or order.unit_id in s.unit_ids


def require_role(user: User, roles: frozenset[str]) -> None:
    if user.role not in roles:
        raise ApiError(403, "auth.forbidden")


def require_handler(session: Session, user: User, order: WorkOrder) -> None:
    """The order's assignee, or staff of its unit (any of the user's units)."""
    if not handles(scope(session, user), order):
        raise ApiError(403, "workorder.not_yours")


def require_scope(session: Session, user: User, order: WorkOrder, roles: frozenset[str]) -> None:
    """The role, and above the order in the organisation."""
    require_role(user, roles)
    if not above(session, scope(session, user), order):
        raise ApiError(403, "workorder.out_of_scope")


def require_whistler(session: Session, user: User, order: WorkOrder) -> None:
    """吹哨 is for the unit handling the order, or a unit above it, in a role that may call."""
    require_role(user, WHISTLERS)
    s = scope(session, user)
    if not (above(session, s, order) or handles(s, order)):
        raise ApiError(403, "workorder.not_yours")


def whistled_units(session: Session, user: User) -> frozenset[str]:
    """The units a department's report speaks for: all of the user's."""
    return scope(session, user).unit_ids


@dataclass(frozen=True)
class Sight:
    """What a reader is shown of a work order."""

    requester: bool  # the requester's id (and their own acts in the timeline)
    personal_text: bool  # phones and ID numbers typed into free text, unmasked


def sight(session: Session, user: User, order: WorkOrder) -> Sight:
    """The requester is shown to whoever calls them back or stands above that unit, never on a
    confidential or assisting order; a department reading the order only because it was whistled
    for it co-handles and does not call back."""
    s = scope(session, user)
    requester = (not order.confidential and order.role == "lead"
                 and (handles(s, order) or above(session, s, order)))
    return Sight(requester=requester, personal_text=user.role in PERSONAL_TEXT_READERS)


def list_sight(user: User) -> Sight:
    """Rows of a list limited to the reader's subtrees (they stand above every row)."""
    return Sight(requester=True, personal_text=user.role in PERSONAL_TEXT_READERS)


# --------------------------------------------------------------------------- cases, staff, exports


def designation_case(session: Session, user: User, case_id: str) -> RoutingCase:
    """A case whose last lead order is in the user's subtree, locked; 404 otherwise."""
    rc = session.get(RoutingCase, case_id, with_for_update=True)
    last = session.get(WorkOrder, rc.lead_work_order_id) if rc is not None and rc.lead_work_order_id else None
    s = scope(session, user)
    if rc is None or not (s.everything or (last is not None and above(session, s, last))):
        raise ApiError(404, "routing.case_not_found", field="case_id")
    return rc


def require_duty_setter(session: Session, user: User, staff: Staff) -> None:
    """Staff set their own duty; a dispatcher or supervisor that of staff in their subtrees (404
    for anyone else's: who works where is not revealed)."""
    if user.id == staff.user_id:
        return
    require_role(user, DUTY_SETTERS)
    if not scope(session, user).covers(session.get(Unit, staff.unit_id)):
        raise ApiError(404, "staff.not_found", field="user_id")


def subtrees(session: Session, user: User) -> tuple[str, ...] | None:
    """The subtrees a user's lists, statistics and exports are limited to; None for the whole tree."""
    return scope(session, user).within


def ledger_subtree(session: Session, user: User, unit: Unit | None) -> tuple[str, ...] | None:
    """What a ledger export covers: the unit asked for, which must be in the user's subtrees (the
    units are a public directory to staff: 403, not 404), else all of them."""
    s = scope(session, user)
    if unit is None:
        return s.within
    if not s.covers(unit):
        raise ApiError(403, "workorder.out_of_scope", field="unit_code")
    return (unit.path,) if unit.path else ()


# --------------------------------------------------------------------------- the audit trail


def audit_scope(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """The entries of routing's audit trail a reader sees (GET /routing/v1/audit): admins all; a
    supervisor those about what lies in her subtrees under this policy: the work orders she reads
    (`visible_orders`), their cases, the units of her subtrees (by code or id) and their staff.
    Entries about anything else (the responsibility list, the trail itself) are the admins'.
    Anyone else: 403."""
    if user.role == "admin":
        return true()
    if user.role != "supervisor":
        raise ApiError(403, "auth.forbidden")
    s = scope(session, user)
    units = select(Unit.id).where(true() if s.everything else or_(Unit.id.in_(s.unit_ids), under(Unit.path, s.paths)))
    unit_codes = select(Unit.code).where(Unit.id.in_(units))
    staff = select(Staff.user_id).where(Staff.unit_id.in_(units))
    orders = visible_orders(s)
    about = partial(audit_about, table)
    return or_(about("work_order", select(WorkOrder.id).where(orders)),
               about("case", select(WorkOrder.case_id).where(orders)),
               about("unit", unit_codes), about("unit", units),
               about("staff", staff), about("user", staff))


# --------------------------------------------------------------------------- the whole deployment's


def require_district_level(session: Session, user: User) -> None:
    """What is the whole deployment's is governed by the district level (`district_level`): the State
    Council's holiday notices (loading them and reading who loaded which) every unit's clocks count on,
    and the responsibility list every case of every area is dispatched by. A supervisor of a street
    is refused like any other role (403): her scope is one subtree, their reach the whole tree."""
    if not district_level(session, user):
        raise ApiError(403, "auth.forbidden")
