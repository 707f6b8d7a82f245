"""工单: a handler's list, a work order's detail and every transition of its life."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from shared import offline
from shared.auth import CurrentUser, StaffUser
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import access, dispatch, views, workflow
from ..models import IdempotencyKey
from ..schemas import (
    AnswerBody,
    ContactBody,
    MyWorkOrders,
    ResolveBody,
    ReturnBody,
    UnitBody,
    VerifyBody,
    WorkOrderDetail,
    WorkOrderView,
)
from .deps import (
    FORBIDDEN,
    NOT_FOUND,
    ORDER_ACTION,
    CaseAwaitingDesignation,
    GridIndex,
    HandledOrder,
    ReadableOrder,
    SupervisorDep,
    locked,
    shown,
)

router = APIRouter(tags=["工单 work orders"])

VerifiableOrder = locked(access.VERIFIERS)
DispatchersOrder = locked(access.DISPATCHERS)
DESIGNATION = {**FORBIDDEN, 404: {"description": "诉求不存在或不在您的管辖范围内 no such case in your scope"},
               409: {"description": "该诉求未处于待指定状态 the case is not awaiting designation"}}


@router.get("/work-orders/mine", response_model=MyWorkOrders, responses=FORBIDDEN,
            summary="我的工单 work orders assigned to me, and those my unit was whistled for (吹哨) and must report to",
            description="默认只列未办结的工单（待签收、已签收、办理中、已办结待结案、已核查），分页；"
                        "state=finished 列已结案、已退单、已改派、已撤销的，state=all 全部（未办结的在前）。"
                        "被吹哨且尚未报到的工单也列出，标记 "
                        "whistled: true。By default only the open orders, a page at a time; state=finished lists the "
                        "closed, returned, reassigned and cancelled ones, state=all both (open first). Orders one of "
                        "my units was whistled for and has not reported to yet are listed too, with whistled: true.")
def my_work_orders(user: StaffUser, session: SessionDep,
                   state: Annotated[Literal["open", "finished", "all"], Query(
                       description="open 未办结（默认）/ finished 已结束 / all 全部 which orders")] = "open",
                   page: Annotated[int, Query(ge=1, le=10000, description="页码 page, from 1")] = 1,
                   page_size: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50,
                   ) -> MyWorkOrders:
    access.require_role(user, access.ORDER_ROLES)
    s = access.scope(session, user)
    units = s.unit_ids if user.role in access.handlers() else frozenset()
    rows, total = workflow.assigned_to(session, user.id, access.visible_orders(s), units, state=state, page=page,
                                       page_size=page_size)
    return MyWorkOrders(items=[views.order_summary(order, unit_name, whistled) for order, unit_name, whistled in rows],
                        total=total, page=page, page_size=page_size)


@router.get("/work-orders/{order_id}", summary="工单详情（含时间线、时限）a work order with its timeline",
            response_model=WorkOrderDetail, responses=NOT_FOUND)
def get_work_order(user: CurrentUser, order: ReadableOrder, uow: Uow) -> dict:
    if order.confidential:  # who read a confidential order, and when
        uow.audit("read.work_order", subject_kind="work_order", subject_id=order.id,
                  detail={"case_id": order.case_id})
    return shown(uow.session, user, order, detail=True)


# A grid worker's steps: also 400 for an empty Idempotency-Key, and 409 for a key reused with other content.
STEP = {**ORDER_ACTION, 400: {"description": "幂等键格式不正确 idempotency.key_invalid"},
        409: {"description": "工单当前状态不允许此操作，或该幂等键已用于不同内容 the status does not allow it, or "
                             "the Idempotency-Key was used for something else"}}


def once(uow: Uow, user, key: str | None, op: str, order, body, act) -> dict:
    """A grid worker's step, once per Idempotency-Key: her phone replays what it queued offline and a
    replay gets the first answer. The step's time is the server's: the clocks are the record the units
    are scored on, and a phone's own clock is no evidence of when it was signed."""
    def step() -> dict:
        act()
        return shown(uow.session, user, order)

    return offline.once(uow.session, IdempotencyKey, user.id, key, op, order.id, body, step, 200)[1]


@router.post("/work-orders/{order_id}/sign", summary="签收 sign for a work order", response_model=WorkOrderView,
             responses=STEP)
def sign(user: CurrentUser, order: HandledOrder, uow: Uow, key: offline.KeyHeader = None) -> dict:
    access.require_handler(uow.session, user, order)
    return once(uow, user, key, "sign", order, None,
                lambda: workflow.sign(uow.session, uow.emit, order, user.id, utcnow()))


@router.post("/work-orders/{order_id}/contact", summary="首次联系诉求人 record the first contact",
             response_model=WorkOrderView, responses=STEP)
def contact(user: CurrentUser, order: HandledOrder, uow: Uow, body: ContactBody | None = None,
            key: offline.KeyHeader = None) -> dict:
    access.require_handler(uow.session, user, order)
    return once(uow, user, key, "contact", order, body, lambda: workflow.contact(
        uow.session, uow.emit, order, user.id, utcnow(), body.note if body else None))


@router.post("/work-orders/{order_id}/resolve", summary="办结 report the result with an outcome code",
             description="办结照片先以本人账号上传到 POST /intake/v1/attachments，再在 photo_ids 中填写返回的附件 id；"
                         "id 格式不正确或重复为 422。Upload the result photos to POST /intake/v1/attachments first "
                         "and give their ids in photo_ids; a malformed or repeated id is 422.",
             response_model=WorkOrderView, responses=STEP)
def resolve(user: CurrentUser, order: HandledOrder, body: ResolveBody, uow: Uow,
            key: offline.KeyHeader = None) -> dict:
    access.require_handler(uow.session, user, order)
    photos = workflow.photo_ids(body.photo_ids)
    return once(uow, user, key, "resolve", order, body, lambda: workflow.resolve(
        uow.session, uow.emit, order, user.id, utcnow(), outcome=body.outcome, result_text=body.result_text,
        photos=photos))


ANSWER = {**STEP, 409: {"description": "工单状态不允许答复，或该工单不是建议或私事引导 the status does not "
                                              "allow it, or the order is not a suggestion or guidance"}}


@router.post("/work-orders/{order_id}/answer", response_model=WorkOrderView, responses=ANSWER,
             summary="答复 answer a suggestion (adopted or not, 采纳) or give guidance on a private matter (私事)")
def answer(user: CurrentUser, order: HandledOrder, body: AnswerBody, uow: Uow,
           key: offline.KeyHeader = None) -> dict:
    access.require_handler(uow.session, user, order)
    return once(uow, user, key, "answer", order, body, lambda: workflow.answer(
        uow.session, uow.emit, order, user.id, utcnow(), answer_text=body.answer_text, adopted=body.adopted))


@router.post("/work-orders/{order_id}/verify", summary="核查 verify the result (optional)",
             response_model=WorkOrderView, responses=ORDER_ACTION)
def verify(user: CurrentUser, order: VerifiableOrder, body: VerifyBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.VERIFIERS)
    workflow.verify(uow.session, uow.emit, order, user.id, utcnow(), passed=body.passed, note=body.note)
    return shown(uow.session, user, order)


@router.post("/work-orders/{order_id}/close", summary="结案 close a resolved work order",
             response_model=WorkOrderView, responses=ORDER_ACTION)
def close(user: CurrentUser, order: DispatchersOrder, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.DISPATCHERS)
    workflow.close(uow.session, uow.emit, order, user.id, utcnow())
    return shown(uow.session, user, order)


@router.post("/work-orders/{order_id}/return", response_model=WorkOrderView, responses=STEP,
             summary="退单 return within the window with reason and legal basis; re-dispatched or awaits 指定")
def return_order(user: CurrentUser, order: HandledOrder, body: ReturnBody, grid_index: GridIndex,
                 uow: Uow, key: offline.KeyHeader = None) -> dict:
    access.require_handler(uow.session, user, order)
    return once(uow, user, key, "return", order, body, lambda: dispatch.return_order(
        uow.session, uow.emit, grid_index, order, user.id, utcnow(), reason=body.reason,
        legal_basis=body.legal_basis))


REASSIGN = {**ORDER_ACTION, 409: {"description": "工单当前状态不允许改派，或改派给已承办的同一单位 "
                                                "（workorder.same_unit）the status does not allow it, or the unit "
                                                "handles it already"}}


@router.post("/work-orders/{order_id}/reassign", summary="改派 reassign to another unit (history kept); "
             "the answer is the new order", response_model=WorkOrderView, responses=REASSIGN)
def reassign(user: CurrentUser, order: DispatchersOrder, body: UnitBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.DISPATCHERS)
    new = dispatch.reassign(uow.session, uow.emit, order, body.unit_code, user.id, utcnow(), body.reason)
    return shown(uow.session, user, new)


@router.post("/cases/{case_id}/designate", status_code=201, response_model=WorkOrderView, responses=DESIGNATION,
             summary="指定 a supervisor names the owner after three dispatches")
def designate(user: SupervisorDep, case: CaseAwaitingDesignation, body: UnitBody, uow: Uow) -> dict:
    order = dispatch.designate(uow.session, uow.emit, case, body.unit_code, user.id, utcnow(), body.reason)
    return shown(uow.session, user, order)
