"""吹哨报到: calling departments to a work order, and their report."""

from fastapi import APIRouter

from shared.auth import StaffUser
from shared.db import utcnow
from shared.deps import Uow

from .. import access, views, whistle
from ..schemas import WhistleBody
from .deps import LockedOrder

router = APIRouter(tags=["吹哨报到 whistle"])


@router.post("/work-orders/{order_id}/whistle", name="whistle",
             summary="吹哨 call departments to report within 30 minutes (default)")
def call(user: StaffUser, order: LockedOrder, body: WhistleBody, uow: Uow) -> dict:
    access.require_whistler(uow.session, user, order)
    whistle.call(uow.session, uow.emit, order, user.id, utcnow(), body.department_codes, body.note)
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/report",
             summary="报到 the whistled department acknowledges and joins as co-handler")
def report(user: StaffUser, order: LockedOrder, uow: Uow) -> dict:
    whistle.report(uow.session, uow.emit, order, access.staff_unit(uow.session, user), user.id, utcnow())
    # The department co-handles; calling the requester back stays with the lead unit.
    return views.order(uow.session, order, hide_requester=True)
