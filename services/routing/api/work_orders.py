"""工单: a handler's list, a work order's detail and every transition of its life."""

from fastapi import APIRouter

from shared.auth import StaffUser
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import access, dispatch, views, workflow
from ..schemas import ContactBody, ResolveBody, ReturnBody, UnitBody, VerifyBody
from .deps import CaseAwaitingDesignation, GridIndex, LockedOrder, Supervisor, WorkOrderDep

router = APIRouter(tags=["工单 work orders"])


@router.get("/work-orders/mine", summary="我的工单 work orders assigned to me")
def my_work_orders(user: StaffUser, session: SessionDep) -> list[dict]:
    return [views.order_summary(order, unit_name) for order, unit_name in workflow.assigned_to(session, user.id)]


@router.get("/work-orders/{order_id}", summary="工单详情（含时间线、时限）a work order with its timeline")
def get_work_order(user: StaffUser, order: WorkOrderDep, session: SessionDep) -> dict:
    access.require_reader(session, user, order)
    return views.order(session, order, detail=True)


@router.post("/work-orders/{order_id}/sign", summary="签收 sign for a work order")
def sign(user: StaffUser, order: LockedOrder, uow: Uow) -> dict:
    access.require_handler(uow.session, user, order)
    workflow.sign(uow.session, uow.emit, order, user.id, utcnow())
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/contact", summary="首次联系诉求人 record the first contact")
def contact(user: StaffUser, order: LockedOrder, uow: Uow, body: ContactBody | None = None) -> dict:
    access.require_handler(uow.session, user, order)
    workflow.contact(uow.session, uow.emit, order, user.id, utcnow(), body.note if body else None)
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/resolve", summary="办结 report the result with an outcome code")
def resolve(user: StaffUser, order: LockedOrder, body: ResolveBody, uow: Uow) -> dict:
    access.require_handler(uow.session, user, order)
    workflow.resolve(uow.session, uow.emit, order, user.id, utcnow(), outcome=body.outcome,
                     result_text=body.result_text, photos=body.photos)
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/verify", summary="核查 verify the result (optional)")
def verify(user: StaffUser, order: LockedOrder, body: VerifyBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.VERIFIERS)
    workflow.verify(uow.session, uow.emit, order, user.id, utcnow(), passed=body.passed, note=body.note)
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/close", summary="结案 close a resolved work order")
def close(user: StaffUser, order: LockedOrder, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.DISPATCHERS)
    workflow.close(uow.session, uow.emit, order, user.id, utcnow())
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/return",
             summary="退单 return within the window with reason and legal basis; re-dispatched or awaits 指定")
def return_order(user: StaffUser, order: LockedOrder, body: ReturnBody, grid_index: GridIndex, uow: Uow) -> dict:
    access.require_handler(uow.session, user, order)
    dispatch.return_order(uow.session, uow.emit, grid_index, order, user.id, utcnow(), reason=body.reason,
                          legal_basis=body.legal_basis)
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/reassign", summary="改派 reassign to another unit (history kept)")
def reassign(user: StaffUser, order: LockedOrder, body: UnitBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.DISPATCHERS)
    new = dispatch.reassign(uow.session, uow.emit, order, body.unit_code, user.id, utcnow(), body.reason)
    return views.order(uow.session, new)


@router.post("/cases/{case_id}/designate", status_code=201,
             summary="指定 a supervisor names the owner after three dispatches")
def designate(user: Supervisor, case: CaseAwaitingDesignation, body: UnitBody, uow: Uow) -> dict:
    access.require_designator(uow.session, user, case)
    order = dispatch.designate(uow.session, uow.emit, case, body.unit_code, user.id, utcnow(), body.reason)
    return views.order(uow.session, order)
