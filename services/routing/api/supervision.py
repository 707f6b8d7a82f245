"""督办: pressing on open work, extensions, exclusions from the scores, the overdue and watch lists."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.auth import StaffUser
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import access, supervision, views
from ..schemas import DecisionBody, ExtensionBody, NoteBody, ReasonBody
from .deps import LockedExtension, LockedOrder, order_by_id

router = APIRouter()
SUPERVISION = ["督办 supervision"]


@router.post("/work-orders/{order_id}/supervise", tags=SUPERVISION,
             summary="督办 record supervision; the handler is notified")
def supervise(user: StaffUser, order: LockedOrder, body: NoteBody, uow: Uow) -> dict:
    access.require_scope(uow.session, user, order, access.SUPERVISORS)
    supervision.supervise(uow.session, uow.emit, order, user.id, utcnow(), body.note)
    return views.order(uow.session, order)


@router.post("/work-orders/{order_id}/extensions", tags=["工单 work orders"], status_code=201,
             summary="申请延期 request an extension (a supervisor approves)")
def request_extension(user: StaffUser, order: LockedOrder, body: ExtensionBody, session: SessionDep) -> dict:
    access.require_handler(session, user, order)
    row = supervision.request_extension(session, order, user.id, utcnow(), body.working_days, body.reason)
    return views.extension_request(row)


@router.post("/extensions/{extension_id}/decision", tags=["工单 work orders"],
             summary="审批延期 approve or reject an extension")
def decide_extension(user: StaffUser, extension: LockedExtension, body: DecisionBody, uow: Uow) -> dict:
    order = order_by_id(uow.session, extension.work_order_id, lock=True)
    access.require_scope(uow.session, user, order, access.SUPERVISORS)
    supervision.decide_extension(uow.session, uow.emit, order, extension, user.id, utcnow(), body.approve,
                                 body.note)
    return views.extension_decision(extension)


@router.post("/work-orders/{order_id}/exclusion", tags=["考核 scores"],
             summary="不计入考核 exclude from scores, with a recorded reason")
def exclude(user: StaffUser, order: LockedOrder, body: ReasonBody, session: SessionDep) -> dict:
    access.require_scope(session, user, order, access.SUPERVISORS)
    supervision.exclude(session, order, user.id, utcnow(), body.reason)
    return views.order(session, order)


@router.get("/supervision/overdue", tags=SUPERVISION, summary="超期工单 everything overdue in my subtree")
def overdue(user: StaffUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    access.require_role(user, access.OVERDUE_READERS)
    rows = supervision.overdue(session, utcnow(), access.own_subtree(session, user), limit)
    return [views.order(session, order, unit) for order, unit in rows]


@router.get("/watch-list", tags=SUPERVISION, summary="重点关注（高风险纠纷）the streets' watch list")
def watch_list(user: StaffUser, session: SessionDep) -> list[dict]:
    access.require_role(user, access.WATCH_READERS)
    return [views.watch_entry(e) for e in supervision.watch_list(session, access.scope_path(session, user))]
