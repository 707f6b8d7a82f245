"""The callback evaluation (回访评价) of a resolved handling: its window, the resident's (or the
operator's, on the phone) answer, and "not evaluated" when the window passes without one."""

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.intake import CaseEvaluated
from shared.runtime import ServiceRuntime
from shared.uow import Emit, UnitOfWork

from . import config, timeline
from .access import is_evaluable_kind, is_requester
from .models import Case, Evaluation
from .schemas import EvaluationBody
from .status import FINISHED


def _answered(session: Session, case_id: str, work_order_id: str | None) -> bool:
    return session.scalar(select(Evaluation.id).where(Evaluation.case_id == case_id,
                                                      Evaluation.work_order_id == work_order_id)) is not None


def open_window(session: Session, case: Case, work_order_id: str) -> None:
    """A resolved work order opens the window for evaluating it. A handling already answered for
    (the resident rated it before a failed verification) gets no new deadline: the timeout would
    overwrite that answer with "not evaluated"."""
    if not is_evaluable_kind(case):  # a praise, suggestion or 私事 is not handled work: nothing to call back on
        case.evaluation_due_at = None
        return
    case.evaluation_due_at = (None if _answered(session, case.id, work_order_id) else
                              utcnow() + timedelta(days=config.get().evaluation.window_days))


def evaluate(session: Session, emit: Emit, case: Case, user: User, body: EvaluationBody) -> Evaluation:
    if user.role == "operator":
        via = "operator"  # recorded on the phone with the resident
    elif is_requester(case, user):
        via = "resident"  # who filed it, or the resident staff filed it for by her phone
    else:
        raise ApiError(403, "case.not_reporter")
    if not is_evaluable_kind(case):
        # Routing's order was a praise (passed on to the unit), a suggestion or a 私事 (answered): there was no
        # handling to rate, and a rating would put contact and satisfaction on an order that has neither.
        raise ApiError(409, "case.not_evaluable_kind", field="appeal_type")
    if case.status not in config.get().evaluable_statuses:
        # A case that ended unhandled (withdrawn, merged …) never will be evaluable: "not yet" would mislead.
        raise ApiError(409, "case.ended_without_handling" if case.status in FINISHED else "case.cannot_evaluate",
                       field="status")
    if _answered(session, case.id, case.work_order_id):
        raise ApiError(409, "case.already_evaluated")
    now = utcnow()
    ev = Evaluation(case_id=case.id, work_order_id=case.work_order_id, unit_id=case.unit_id, evaluated=True,
                    contacted=body.contacted, solved=body.solved, satisfaction=body.satisfaction,
                    comment=body.comment, via=via, by_id=user.id, at=now)
    session.add(ev)
    case.evaluation_due_at, case.updated_at = None, now
    by = "话务员回访记录" if via == "operator" else "您的评价"
    timeline.add(session, case.id, "evaluated",
                 f"{by}：{body.satisfaction}，{'已解决' if body.solved else '未解决'}，"
                 f"{'已联系' if body.contacted else '未联系'}", at=now)
    if body.comment:
        timeline.add(session, case.id, "evaluation_comment", f"评价意见：{body.comment}", public=False, at=now)
    emit(CaseEvaluated(case_id=case.id, case_no=case.case_no, work_order_id=case.work_order_id,
                       unit_id=case.unit_id, evaluated=True, contacted=body.contacted, solved=body.solved,
                       satisfaction=body.satisfaction, via=via, at=now))
    return ev


def expire_evaluations(session: Session, emit: Emit, now: datetime, limit: int = 200) -> int:
    """Cases whose evaluation window passed without an answer: recorded as not evaluated.

    The policy's on_timeout is "not_evaluated": the unit is never credited with a silent
    "satisfied". Locked rows are skipped so several workers can share the scan.
    """
    query = (select(Case).where(Case.evaluation_due_at.is_not(None), Case.evaluation_due_at <= now)
             .order_by(Case.evaluation_due_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    cases = session.scalars(query).all()
    for case in cases:
        session.add(Evaluation(case_id=case.id, work_order_id=case.work_order_id, unit_id=case.unit_id,
                               evaluated=False, via="timeout", at=now))
        case.evaluation_due_at, case.updated_at = None, now
        timeline.add(session, case.id, "not_evaluated", "回访期限已过，未收到评价，记为“未评价”", at=now)
        emit(CaseEvaluated(case_id=case.id, case_no=case.case_no, work_order_id=case.work_order_id,
                           unit_id=case.unit_id, evaluated=False, via="timeout", at=now))
    return len(cases)


def timeout_emit(uow: UnitOfWork) -> Emit:
    """The scan's emit: no request caused a timeout, so each case's event starts its own story,
    correlated as evaluation-timeout-<case id>."""
    return lambda payload: replace(uow, correlation_id=f"evaluation-timeout-{payload.case_id}").emit(payload)


def expire_due(rt: ServiceRuntime, now: datetime | None = None, limit: int = 200) -> int:
    """One round of the background scan, in a transaction of its own (see service.background)."""
    with rt.unit_of_work() as uow:
        return expire_evaluations(uow.session, timeout_emit(uow), now or utcnow(), limit)
