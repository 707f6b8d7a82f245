"""The work order's life: legal transitions, each one a timeline row and an event.

Every function works in the caller's transaction and emits its events through `emit`; it raises
`ApiError` (and changes nothing) when the transition is not allowed.
"""

import json
import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import routing as ev
from shared.uow import Emit

from . import clocks, config
from .journal import case_of, event_fields, timeline
from .models import FINISHED_STATUSES, OPEN_STATUSES, STATUS_ZH, RoutingCase, Unit, Whistle, WorkOrder

# action → the statuses it may start from (anything else is refused with workorder.illegal_transition)
ALLOWED = {
    "sign": {"dispatched"},
    "contact": {"signed"},
    "resolve": {"in_progress"},
    "verify": {"resolved"},
    "close": {"resolved", "verified"},
    "return": {"dispatched", "signed"},
    "extend": {"signed", "in_progress"},
    "whistle": {"signed", "in_progress"},
    # 报到 joins an order still being handled: on a closed or returned one the assisting order
    # would stay open for ever.
    "report": {"signed", "in_progress"},
    "supervise": {"dispatched", "signed", "in_progress", "resolved", "verified"},
    "reassign": {"dispatched", "signed", "in_progress"},
    # A suggestion (建议) or guidance (私事) ends with its answer, from any status before a result.
    "answer": {"dispatched", "signed", "in_progress"},
}


# The actions as staff name them: a refusal's detail is Chinese like its message (English detail only
# where shared/errors can localise one).
ACTION_ZH = {"sign": "签收", "contact": "首次联系", "resolve": "办结", "verify": "核查", "close": "结案",
             "return": "退单", "extend": "延期", "whistle": "吹哨", "report": "报到", "supervise": "督办",
             "reassign": "改派", "answer": "答复"}


def check(order: WorkOrder, action: str) -> None:
    if order.status not in ALLOWED[action]:
        raise ApiError(409, "workorder.illegal_transition", field="status",
                       detail=f"工单状态为{STATUS_ZH.get(order.status, order.status)}，不能{ACTION_ZH[action]}")


def assigned_to(session: Session, user_id: str, reach: ColumnElement[bool], whistled_units: Collection[str] = (),
                *, state: str = "open", page: int = 1, page_size: int = 50,
                ) -> tuple[list[tuple[WorkOrder, str, bool]], int]:
    """A page of a handler's own work orders and those one of `whistled_units` was whistled for (吹哨) and
    must still report to, with their units' names and whether each is there for a whistle, and how many
    there are in all; all within `reach` (the orders the handler reads, access.visible_orders).
    `state`: "open" (OPEN_STATUSES: what she must still act on), "finished" or "all". Open orders come
    first, then newest first: a long history must never push an open order off the page she reads."""
    pending = (select(Whistle.work_order_id).where(Whistle.department_unit_id.in_(list(whistled_units)),
                                                   Whistle.reported_at.is_(None)) if whistled_units else None)
    mine = WorkOrder.assignee_id == user_id
    if pending is not None:
        mine = or_(mine, and_(WorkOrder.id.in_(pending), WorkOrder.status.in_(ALLOWED["report"])))
    where = [mine, reach]
    if state != "all":
        where.append(WorkOrder.status.in_(OPEN_STATUSES if state == "open" else FINISHED_STATUSES))
    total = session.scalar(select(func.count()).select_from(WorkOrder).where(*where)) or 0
    rows = session.execute(
        select(WorkOrder, Unit.name).join(Unit, Unit.id == WorkOrder.unit_id).where(*where)
        .order_by(case((WorkOrder.status.in_(OPEN_STATUSES), 0), else_=1), WorkOrder.created_at.desc(),
                  WorkOrder.id)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    waiting = set(session.scalars(pending.where(Whistle.work_order_id.in_([o.id for o, _ in rows])))) \
        if pending is not None and rows else set()
    return [(order, name, order.id in waiting and order.status in ALLOWED["report"]) for order, name in rows], total


def sign(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime) -> None:
    check(order, "sign")
    rc = case_of(session, order)
    order.status, order.signed_at, order.updated_at = "signed", now, now
    order.assignee_id = order.assignee_id or actor_id
    order.sign_late = clocks.stop(session, order, "sign", now)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "signed", actor_id, {"late": order.sign_late}, now)
    emit(ev.CaseSigned(**fields, actor_id=actor_id, late=order.sign_late))


def contact(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime,
            note: str | None = None) -> None:
    check(order, "contact")
    rc = case_of(session, order)
    order.status, order.contacted_at, order.updated_at = "in_progress", now, now
    order.contact_late = clocks.stop(session, order, "contact", now)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "contacted", actor_id, {"late": order.contact_late, "note": note}, now)
    emit(ev.CaseContacted(**fields, actor_id=actor_id, late=order.contact_late))


def photo_ids(values: list[str]) -> list[str]:
    """The result photos' ids as intake writes them (lower-case, hyphenated UUIDs), or 422 naming the item.

    Routing checks the form only: the files are intake's, which takes those the resolving handler uploaded
    and no case used yet (routing.case.resolved `photo_ids`, intake's handlers) and leaves the rest. A URL
    or any other text is refused here, because the requester could never open it."""
    ids = []
    for i, value in enumerate(values):
        try:
            ids.append(str(uuid.UUID(value)))
        except ValueError:
            raise ApiError(422, "workorder.photo_invalid", field=f"photo_ids.{i}") from None
    if len(set(ids)) != len(ids):
        raise ApiError(422, "workorder.photo_duplicate", field="photo_ids")
    return ids


def resolve(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, *, outcome: str,
            result_text: str, photos: list[str]) -> None:
    """办结 with the outcome code, the result text and the ids of the result photos (`photos`, checked by
    photo_ids), which the event carries to intake."""
    if order.kind != "work":  # its outcome is an answer (adopted or not, guidance), not an outcome code
        raise ApiError(409, "workorder.answered_kind", field="kind")
    check(order, "resolve")
    rc = case_of(session, order)
    order.status, order.resolved_at, order.updated_at = "resolved", now, now
    order.outcome, order.result_text, order.photos = outcome, result_text, json.dumps(photos)
    order.result_late = clocks.stop(session, order, "result", now)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "resolved", actor_id, {"outcome": outcome, "photos": len(photos),
                                                    "late": order.result_late}, now)
    emit(ev.CaseResolved(**fields, actor_id=actor_id, outcome=outcome, result_text=result_text,
                         photo_count=len(photos), photo_ids=list(photos), requester_id=order.requester_id,
                         late=order.result_late))


def answer(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, *, answer_text: str,
           adopted: bool | None) -> None:
    """答复: a suggestion answered, adopted (采纳) or not, or a private matter ended with guidance;
    the order closes with it (its one clock, the answer's, says whether it was in time)."""
    if order.kind not in ("suggestion", "guidance"):
        raise ApiError(409, "workorder.not_answerable", field="kind")
    if order.kind == "suggestion" and adopted is None:
        raise ApiError(422, "workorder.adoption_required", field="adopted")
    if order.kind == "guidance" and adopted is not None:
        raise ApiError(422, "workorder.adoption_not_applicable", field="adopted")
    check(order, "answer")
    rc = case_of(session, order)
    order.status, order.resolved_at, order.updated_at = "resolved", now, now
    order.signed_at = order.signed_at or now
    order.assignee_id = order.assignee_id or actor_id
    order.result_text, order.adopted = answer_text, adopted
    order.result_late = clocks.stop(session, order, "result", now)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "answered", actor_id, {"kind": order.kind, "adopted": adopted,
                                                    "late": order.result_late}, now)
    emit(ev.CaseAnswered(**fields, kind=order.kind, actor_id=actor_id, adopted=adopted, answer_text=answer_text,
                         requester_id=order.requester_id, late=order.result_late))
    close(session, emit, order, actor_id, now)


def file_praise(session: Session, emit: Emit, order: WorkOrder, now: datetime) -> None:
    """表扬 is filed in the praised unit's record at once: nothing to sign, handle or time."""
    rc = case_of(session, order)
    order.status, order.closed_at, order.updated_at = "closed", now, now
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "praised", None, None, now)
    emit(ev.CaseClosed(**fields, outcome=None, requester_id=order.requester_id))


def verify(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, *, passed: bool,
           note: str | None) -> None:
    check(order, "verify")
    rc = case_of(session, order)
    if passed:
        order.status = "verified"
    else:  # not done after all: back to handling, on the result clock it had
        order.status, order.resolved_at, order.result_late = "in_progress", None, None
        clocks.resume(session, order, "result")
    order.updated_at = now
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "verified", actor_id, {"passed": passed, "note": note}, now)
    emit(ev.CaseVerified(**fields, verifier_id=actor_id, passed=passed, note=note))


def close(session: Session, emit: Emit, order: WorkOrder, actor_id: str | None, now: datetime) -> None:
    check(order, "close")
    rc = case_of(session, order)
    order.status, order.closed_at, order.updated_at = "closed", now, now
    clocks.stop_all(session, order, now)
    for assist in session.scalars(select(WorkOrder).where(WorkOrder.lead_id == order.id,
                                                          WorkOrder.status.not_in(("closed", "cancelled")))):
        assist.status, assist.closed_at, assist.updated_at = "closed", now, now
        timeline(session, assist, "closed", actor_id, {"with_lead": order.id}, now)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "closed", actor_id, None, now)
    emit(ev.CaseClosed(**fields, outcome=order.outcome, requester_id=order.requester_id))


def record_evaluation(session: Session, emit: Emit, *, case_id: str, work_order_id: str | None, evaluated: bool,
                      solved: bool | None, satisfaction: str | None, via: str, now: datetime,
                      contacted: bool | None = None) -> None:
    """Intake's callback evaluation (回访), or the record that none came: kept on the order it
    rates (the case's lead when intake does not say), which it closes when it waits for it.
    `contacted: False` — the requester says nobody contacted her — counts against the unit's
    响应率 whatever it recorded, and shows on the order (`contact_denied`) for supervision."""
    order = session.get(WorkOrder, work_order_id) if work_order_id else None
    if order is None:
        rc = session.get(RoutingCase, case_id)
        order = session.get(WorkOrder, rc.lead_work_order_id) if rc and rc.lead_work_order_id else None
    if order is None:
        return
    if evaluated:
        order.evaluated, order.solved, order.satisfaction = True, solved, satisfaction
        order.contact_denied = None if contacted is None else not contacted
    else:  # no answer in time: not evaluated, never counted as satisfied
        order.evaluated, order.solved, order.satisfaction = False, None, None
    timeline(session, order, "evaluated", None,
             {"evaluated": evaluated, "solved": solved, "satisfaction": satisfaction, "via": via,
              "contacted": contacted if evaluated else None}, now)
    if order.status in ALLOWED["close"]:
        close(session, emit, order, None, now)


def cancel_case(session: Session, case_id: str, kind: str, actor_id: str | None, now: datetime) -> None:
    """Withdrawn or merged: every open order of the case stops, its clocks too, and the case
    ends in that state."""
    rc = session.get(RoutingCase, case_id, with_for_update=True)
    if rc is None:
        return
    for order in session.scalars(select(WorkOrder).where(WorkOrder.case_id == case_id,
                                                         WorkOrder.status.in_(tuple(ALLOWED["supervise"])))):
        order.status, order.updated_at = "cancelled", now
        clocks.stop_all(session, order, now)
        timeline(session, order, kind, actor_id, None, now)
    if rc.state == "awaiting_designation" and rc.lead_work_order_id:  # nobody need designate it now
        clocks.stop_kind(session, rc.lead_work_order_id, "designate", now)
    rc.state = {"withdrawn": "cancelled", "merged": "merged"}[kind]


def return_order(session: Session, emit: Emit, order: WorkOrder, actor_id: str, now: datetime, *, reason: str,
                 legal_basis: str, last: bool | None = None) -> RoutingCase:
    """退单 within the window; returns the case, which dispatch sends on or leaves waiting for 指定.
    `last`: nobody is dispatched after this return (default: the case reached its last allowed
    dispatch); the returned event says so, for whoever would otherwise be asked to re-dispatch it."""
    check(order, "return")
    if order.role != "lead":
        raise ApiError(409, "workorder.assist_cannot_return", field="role")
    if order.designated:
        raise ApiError(409, "workorder.designated_cannot_return", field="designated")
    if order.return_deadline is not None and now > order.return_deadline:
        raise ApiError(409, "workorder.return_window_passed", field="return_deadline")
    rc = case_of(session, order)
    if last is None:
        last = rc.dispatch_count >= config.get().clocks.max_dispatches
    order.status, order.updated_at = "returned", now
    clocks.stop_all(session, order, now)
    for assist in session.scalars(select(WorkOrder).where(WorkOrder.lead_id == order.id,
                                                          WorkOrder.status.in_(tuple(ALLOWED["supervise"])))):
        assist.status, assist.updated_at = "cancelled", now
        timeline(session, assist, "cancelled", actor_id, {"lead_returned": order.id}, now)
    fields = event_fields(session, rc, order, now)
    timeline(session, order, "returned", actor_id, {"reason": reason, "legal_basis": legal_basis}, now)
    if last:
        rc.state = "awaiting_designation"
    emit(ev.CaseReturned(**fields, actor_id=actor_id, reason=reason, legal_basis=legal_basis,
                         awaiting_designation=last))
    return rc


def reassign_close(session: Session, order: WorkOrder, actor_id: str, now: datetime, reason: str) -> None:
    """改派: the old order ends as reassigned (its history stays); dispatch opens the new one."""
    check(order, "reassign")
    order.status, order.updated_at = "reassigned", now
    clocks.stop_all(session, order, now)
    timeline(session, order, "reassigned", actor_id, {"reason": reason}, now)
