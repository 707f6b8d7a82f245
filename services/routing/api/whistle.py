"""吹哨报到: calling departments to a work order, and their report."""

from fastapi import APIRouter

from shared.auth import CurrentUser
from shared.db import utcnow
from shared.deps import Uow

from .. import access, whistle
from ..schemas import WhistleBody, WorkOrderView
from .deps import ORDER_ACTION, locked, shown

router = APIRouter(tags=["吹哨报到 whistle"])
WhistledOrder = locked(access.WHISTLERS)
ReportedOrder = locked(access.REPORTERS)
REPORT = {**ORDER_ACTION, 403: {"description": "当前角色无权报到，或本部门未被吹哨 this role may not report, "
                                               "or the department was not whistled for"}}


@router.post("/work-orders/{order_id}/whistle", name="whistle", response_model=WorkOrderView, responses=ORDER_ACTION,
             summary="吹哨 call departments to report within 30 minutes (default)")
def call(user: CurrentUser, order: WhistledOrder, body: WhistleBody, uow: Uow) -> dict:
    access.require_whistler(uow.session, user, order)
    whistle.call(uow.session, uow.emit, order, user.id, utcnow(), body.department_codes, body.note)
    return shown(uow.session, user, order)


@router.post("/work-orders/{order_id}/report", response_model=WorkOrderView, responses=REPORT,
             summary="报到 the whistled department acknowledges and joins as co-handler")
def report(user: CurrentUser, order: ReportedOrder, uow: Uow) -> dict:
    whistle.report(uow.session, uow.emit, order, access.whistled_units(uow.session, user), user.id, utcnow())
    # The department co-handles; calling the requester back stays with the lead unit (access.sight).
    return shown(uow.session, user, order)
