"""Routing's loaders as dependencies: a locked work order, a case awaiting designation, the grid index."""

from typing import Annotated

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from shared.auth import StaffUser, User
from shared.deps import Runtime, SessionDep
from shared.errors import ApiError

from .. import access, config, directory, dispatch
from ..locator import Locator, cached
from ..models import Extension, RoutingCase, Staff, WorkOrder


def order_by_id(session: Session, order_id: str, lock: bool = False) -> WorkOrder:
    order = session.get(WorkOrder, order_id, with_for_update=lock)
    if order is None:
        raise ApiError(404, "workorder.not_found", field="work_order_id")
    return order


def work_order(order_id: str, session: SessionDep) -> WorkOrder:
    return order_by_id(session, order_id)


def locked_order(order_id: str, session: SessionDep) -> WorkOrder:
    """The work order, locked until the request's transaction ends: one change at a time."""
    return order_by_id(session, order_id, lock=True)


def locked_extension(extension_id: int, session: SessionDep) -> Extension:
    row = session.get(Extension, extension_id, with_for_update=True)
    if row is None:
        raise ApiError(404, "extension.not_found", field="extension_id")
    return row


def supervisor(user: StaffUser) -> User:
    access.require_role(user, access.SUPERVISORS)
    return user


def case_awaiting_designation(case_id: str, session: SessionDep) -> RoutingCase:
    return dispatch.awaiting_designation(session, case_id)


def staff_member(user_id: str, session: SessionDep) -> Staff:
    return directory.staff_member(session, user_id)


def grid_index(rt: Runtime, session: SessionDep) -> Locator:
    return cached(rt, session)


def ledger_limit(limit: Annotated[int | None, Query(ge=1, description="最多导出行数（默认与上限见 data/ledger.json）"
                                                                      " At most this many rows")] = None) -> int:
    rows = config.get().ledger
    if limit is None:
        return rows.default_rows
    if limit > rows.max_rows:  # the same answer as a Query(le=...) bound, read from the configuration
        raise RequestValidationError([{"type": "less_than_equal", "loc": ("query", "limit"), "input": limit,
                                       "msg": f"Input should be less than or equal to {rows.max_rows}",
                                       "ctx": {"le": rows.max_rows}}])
    return limit


WorkOrderDep = Annotated[WorkOrder, Depends(work_order)]
LockedOrder = Annotated[WorkOrder, Depends(locked_order)]
LockedExtension = Annotated[Extension, Depends(locked_extension)]
Supervisor = Annotated[User, Depends(supervisor)]
CaseAwaitingDesignation = Annotated[RoutingCase, Depends(case_awaiting_designation)]
StaffMember = Annotated[Staff, Depends(staff_member)]
GridIndex = Annotated[Locator, Depends(grid_index)]
LedgerLimit = Annotated[int, Depends(ledger_limit)]
