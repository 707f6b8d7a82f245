"""Routing's loaders as dependencies: a work order the caller may read (locked when it changes), an
extension, a case awaiting designation, a staff member, the grid index, and the bounded query
parameters every endpoint shares.

Each loader of a work order checks the role first (a role that may never do the thing: 403), then
finds the order through the caller's scope (out of scope: 404, the same as no such order)."""

from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from shared import periods
from shared.auth import ROLES, CurrentUser, StaffUser, User
from shared.deps import Runtime, SessionDep
from shared.errors import ApiError

from .. import access, config, directory, dispatch, views
from ..locator import Locator, cached
from ..models import Extension, RoutingCase, Staff, WorkOrder

OrderId = Annotated[str, Path(min_length=1, max_length=36, description="工单编号 The work order's id")]
CaseId = Annotated[str, Path(min_length=1, max_length=36, description="诉求编号 The case's id")]
UserId = Annotated[str, Path(min_length=1, max_length=64, description="工作人员账号 The staff member's user id")]
ExtensionId = Annotated[int, Path(ge=1, le=2**62, description="延期申请编号 The extension request's id")]
Period = Annotated[str, Query(min_length=4, max_length=7, pattern=periods.PATTERN, examples=periods.EXAMPLES,
                              description=periods.DESCRIPTION + "（2000—2099 年）")]

# What each endpoint documents besides the shared statuses (401, 413, 422, 429, 503).
FORBIDDEN = {403: {"description": "当前角色无权执行此操作 this role may not do this"}}
NOT_FOUND = {404: {"description": "工单不存在或不在您的管辖范围内 no such work order in your scope"}}
CONFLICT = {409: {"description": "工单当前状态不允许此操作 the work order's status does not allow this"}}
ORDER_ACTION = {**FORBIDDEN, **NOT_FOUND, **CONFLICT}


def shown(session: Session, user: User, order: WorkOrder, detail: bool = False) -> dict:
    """The order as this reader may see it (access.sight: the requester, free text masked)."""
    return views.order(session, order, access.sight(session, user, order), detail=detail)


def order_by_id(session: Session, order_id: str, lock: bool = False) -> WorkOrder:
    """A work order by id, already known to be in scope (an extension's order)."""
    order = session.get(WorkOrder, order_id, with_for_update=lock)
    if order is None:
        raise ApiError(404, "workorder.not_found", field="work_order_id")
    return order


def order_loader(roles: frozenset[str], lock: bool):
    def load(order_id: OrderId, user: CurrentUser, session: SessionDep) -> WorkOrder:
        access.require_role(user, roles)
        return access.readable_order(session, user, order_id, lock=lock)

    return load


def locked_extension(extension_id: ExtensionId, user: StaffUser, session: SessionDep) -> Extension:
    """An extension request a supervisor may decide: of an order in their scope (404 otherwise)."""
    access.require_role(user, access.SUPERVISORS)
    row = session.get(Extension, extension_id, with_for_update=True)
    if row is None:
        raise ApiError(404, "extension.not_found", field="extension_id")
    try:
        access.readable_order(session, user, row.work_order_id, lock=True)
    except ApiError:
        raise ApiError(404, "extension.not_found", field="extension_id") from None
    return row


def supervisor(user: StaffUser) -> User:
    access.require_role(user, access.SUPERVISORS)
    return user


SupervisorDep = Annotated[User, Depends(supervisor)]


def case_awaiting_designation(case_id: CaseId, user: SupervisorDep, session: SessionDep) -> RoutingCase:
    rc = access.designation_case(session, user, case_id)
    return dispatch.awaiting_designation(session, rc.case_id)


def staff_member(user_id: UserId, session: SessionDep) -> Staff:
    return directory.staff_member(session, user_id)


def grid_index(rt: Runtime, session: SessionDep) -> Locator:
    return cached(rt, session)


def ledger_limit(limit: Annotated[int | None, Query(ge=1, le=config.LEDGER_CEILING,
                                                    description="最多导出行数（默认与上限见 data/ledger.json）"
                                                                " At most this many rows")] = None) -> int:
    rows = config.get().ledger
    if limit is None:
        return rows.default_rows
    if limit > rows.max_rows:  # the same answer as a Query(le=...) bound, read from the configuration
        raise RequestValidationError([{"type": "less_than_equal", "loc": ("query", "limit"), "input": limit,
                                       "msg": f"Input should be less than or equal to {rows.max_rows}",
                                       "ctx": {"le": rows.max_rows}}])
    return limit


# A work order the caller may read (any signed-in user: a mediator or a resident gets 404).
ReadableOrder = Annotated[WorkOrder, Depends(order_loader(frozenset(ROLES), False))]


def locked(roles: frozenset[str]):
    """A work order the caller may read, locked until the request ends, for a role in `roles`."""
    return Annotated[WorkOrder, Depends(order_loader(roles, True))]


def handled_order(order_id: OrderId, user: CurrentUser, session: SessionDep) -> WorkOrder:
    access.require_role(user, access.handlers())
    return access.readable_order(session, user, order_id, lock=True)


HandledOrder = Annotated[WorkOrder, Depends(handled_order)]
LockedExtension = Annotated[Extension, Depends(locked_extension)]
CaseAwaitingDesignation = Annotated[RoutingCase, Depends(case_awaiting_designation)]
StaffMember = Annotated[Staff, Depends(staff_member)]
GridIndex = Annotated[Locator, Depends(grid_index)]
LedgerLimit = Annotated[int, Depends(ledger_limit)]
