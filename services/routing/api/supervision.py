"""督办: pressing on open work, extensions, exclusions from the scores, the overdue and watch lists."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.auth import CurrentUser, StaffUser
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import access, designation, supervision, views
from ..schemas import DecisionBody, ExtensionBody, NoteBody, ReasonBody, WorkOrderView
from .deps import FORBIDDEN, NOT_FOUND, ORDER_ACTION, HandledOrder, LockedExtension, locked, order_by_id, shown

router = APIRouter()
SUPERVISION = ["督办 supervision"]
SupervisedOrder = locked(access.SUPERVISORS)
DECISION = {**FORBIDDEN, 404: {"description": "延期申请不存在或不在您的管辖范围内 no such request in your scope"},
            409: {"description": "该申请已审批、工单状态不允许延期，或超出延期上限须由区级审批 already decided, the "
                                 "order cannot be extended, or beyond the order's cap only the district level "
                                 "approves (extension.count_cap, extension.days_cap)"}}


@router.post("/work-orders/{order_id}/supervise", tags=SUPERVISION, response_model=WorkOrderView,
             responses=ORDER_ACTION,
             summary="督办 record supervision; the handler is notified")
def supervise(user: CurrentUser, order: SupervisedOrder, body: NoteBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.SUPERVISORS)
    supervision.supervise(uow.session, uow.emit, order, user.id, utcnow(), body.note)
    return shown(uow.session, user, order)


@router.post("/work-orders/{order_id}/extensions", tags=["工单 work orders"], status_code=201,
             responses=ORDER_ACTION, summary="申请延期 request an extension (a supervisor approves)")
def request_extension(user: CurrentUser, order: HandledOrder, body: ExtensionBody, uow: Uow) -> dict:
    access.require_handler(uow.session, user, order)
    row = supervision.request_extension(uow.session, uow.emit, order, user.id, utcnow(), body.working_days,
                                        body.reason)
    uow.audit("routing.extension.requested", subject_kind="work_order", subject_id=order.id,
              detail={"extension_id": row.id, "working_days": row.working_days})
    # Beyond the order's cap only the district level approves it: the handler knows who decides.
    return views.extension_request(row, needs_district=supervision.beyond_cap(uow.session, order,
                                                                              row.working_days) is not None)


@router.post("/extensions/{extension_id}/decision", tags=["工单 work orders"], responses=DECISION,
             summary="审批延期 approve or reject an extension")
def decide_extension(user: CurrentUser, extension: LockedExtension, body: DecisionBody, uow: Uow) -> dict:
    order = order_by_id(uow.session, extension.work_order_id)
    access.require_scope(uow.session, user, order, access.SUPERVISORS)
    supervision.decide_extension(uow.session, uow.emit, order, extension, user.id, utcnow(), body.approve,
                                 body.note, district=access.district_level(uow.session, user))
    if not body.approve:  # an approval is the extended event; a rejection emits nothing
        uow.audit("routing.extension.rejected", subject_kind="work_order", subject_id=order.id,
                  detail={"extension_id": extension.id})
    return views.extension_decision(extension)


@router.post("/work-orders/{order_id}/exclusion", tags=["考核 scores"], response_model=WorkOrderView,
             responses={**FORBIDDEN, **NOT_FOUND},
             summary="不计入考核 exclude from scores, with a recorded reason")
def exclude(user: CurrentUser, order: SupervisedOrder, body: ReasonBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.SUPERVISORS)
    supervision.exclude(uow.session, order, user.id, utcnow(), body.reason)
    # The scores change without an event: the trail says who excluded which order (the reason
    # stays on the order's timeline, not in the trail).
    uow.audit("routing.work_order.excluded", subject_kind="work_order", subject_id=order.id,
              detail={"case_id": order.case_id})
    return shown(uow.session, user, order)


@router.get("/supervision/overdue", tags=SUPERVISION, responses=FORBIDDEN,
            summary="超期工单 everything overdue in my subtree: clocks, unanswered 吹哨, 指定 not made")
def overdue(user: StaffUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    access.require_role(user, access.OVERDUE_READERS)
    rows = supervision.overdue(session, utcnow(), access.subtrees(session, user), limit,
                               reach=access.above_orders(access.scope(session, user)))
    sight = access.list_sight(user)
    return [views.overdue(session, row, sight) for row in rows]


@router.get("/designations", tags=SUPERVISION, responses=FORBIDDEN,
            summary="待指定 cases waiting for a supervisor to designate their owner (指定), oldest deadline first")
def designations(user: StaffUser, session: SessionDep,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    access.require_role(user, access.DESIGNATION_READERS)
    now = utcnow()
    rows = designation.waiting(session, access.above_orders(access.scope(session, user)), limit)
    sight = access.list_sight(user)
    return [views.awaiting_designation(session, *row, sight, now) for row in rows]


@router.get("/watch-list", tags=SUPERVISION, responses=FORBIDDEN,
            summary="重点关注（高风险纠纷）the streets' watch list")
def watch_list(user: StaffUser, session: SessionDep) -> list[dict]:
    access.require_role(user, access.WATCH_READERS)
    return [views.watch_entry(e) for e in supervision.watch_list(session, access.subtrees(session, user))]
