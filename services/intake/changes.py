"""What residents change on a filed case: withdrawing it, adding material, reopening it when not
satisfied, and joining someone else's (它也影响我). Staff may add material and withdraw too.

Each function validates everything before writing and runs in the caller's unit of work, so a
refused change changes nothing.
"""

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.intake import CaseJoined, CaseReopened, CaseSupplemented, CaseWithdrawn
from shared.uow import Emit

from . import attachments, config, timeline
from .access import filed_for, is_reporter, is_requester, reopen_refusal
from .models import Case, Follower
from .schemas import ReopenBody, SupplementBody
from .status import FINISHED, set_status


def _actor_id(case: Case, user: User) -> str | None:
    """Who acted, for an event: never the reporter of an anonymous case (events reach handlers)."""
    return None if case.anonymous and is_requester(case, user) else user.id


def may_withdraw(case: Case, user: User) -> bool:
    """Who filed it herself; the staff member who filed it on someone's behalf (on their word);
    an operator or an admin. Not the resident it was filed for by her phone (access.abilities)."""
    return (is_reporter(case, user) or user.role in ("operator", "admin")
            or (user.is_staff and case.created_by_id is not None and case.created_by_id == user.id))


def withdraw(session: Session, emit: Emit, case: Case, user: User, reason: str | None) -> None:
    if not may_withdraw(case, user):
        raise ApiError(403, "case.filed_for_you" if filed_for(case, user) else "case.not_reporter")
    if case.status not in config.get().withdrawable_statuses:
        raise ApiError(409, "case.cannot_withdraw", field="status")
    if case.interest_count > 1:
        # Residents who joined it, or whose cases were merged into it, rely on it being handled:
        # one reporter withdrawing must not end their matter too.
        raise ApiError(409, "case.shared_cannot_withdraw", field="interest_count")
    now = utcnow()
    set_status(case, "withdrawn", now)
    who = "反映人" if is_reporter(case, user) else "工作人员"
    timeline.add(session, case.id, "withdrawn", f"{who}已撤回诉求" + (f"：{reason}" if reason else ""), at=now)
    emit(CaseWithdrawn(case_id=case.id, case_no=case.case_no, by_id=_actor_id(case, user), at=now))


def supplement(session: Session, emit: Emit, case: Case, user: User, body: SupplementBody) -> None:
    if not (is_requester(case, user) or user.is_staff):
        raise ApiError(403, "case.not_reporter")
    if case.status in FINISHED:
        raise ApiError(409, "case.closed_for_changes", field="status")
    added = attachments.claim(session, user.id, body.attachment_ids, case.id)
    now = utcnow()
    case.updated_at = now
    who = "反映人" if is_requester(case, user) else "工作人员"
    extra = f"（附件 {len(added)} 个）" if added else ""
    timeline.add(session, case.id, "supplemented", f"{who}补充材料：{body.text}{extra}", at=now)
    emit(CaseSupplemented(case_id=case.id, case_no=case.case_no, by_id=_actor_id(case, user),
                          attachment_count=len(added), at=now))


def reopen(session: Session, emit: Emit, case: Case, user: User, body: ReopenBody) -> None:
    if not is_requester(case, user):
        raise ApiError(403, "case.not_reporter")
    now = utcnow()
    if (refusal := reopen_refusal(case, now)) is not None:
        raise ApiError(409, refusal, field="status" if refusal == "case.cannot_reopen" else None)
    previous_unit = case.unit_id
    # A new cycle: events of the old work order that arrive late cannot move it again.
    case.cycle_started_at, case.work_order_id = now, None
    case.reopen_count += 1
    case.evaluation_due_at = None
    set_status(case, "reopened", now)
    timeline.add(session, case.id, "reopened", "反映人对办理结果不满意，诉求已重启，将再次交由原单位办理"
                 + (f"：{body.reason}" if body.reason else ""), at=now)
    emit(CaseReopened(case_id=case.id, case_no=case.case_no, reporter_id=None if case.anonymous else case.reporter_id,
                      previous_unit_id=previous_unit, reason_code=body.reason_code, at=now))


def join(session: Session, emit: Emit, case: Case, user: User) -> None:
    """它也影响我: follow an existing case instead of filing a duplicate."""
    if is_requester(case, user):
        raise ApiError(409, "case.cannot_join_own")
    if case.status in FINISHED:
        raise ApiError(409, "case.cannot_join", field="status")
    if session.get(Follower, (case.id, user.id)) is not None:
        raise ApiError(409, "case.already_joined")
    now = utcnow()
    session.add(Follower(case_id=case.id, user_id=user.id, at=now))
    # An atomic increment: two residents joining at once both count.
    session.execute(update(Case).where(Case.id == case.id).values(interest_count=Case.interest_count + 1,
                                                                  updated_at=now))
    session.refresh(case)
    timeline.add(session, case.id, "joined", f"又有居民反映受此问题影响（共 {case.interest_count} 人）", at=now)
    emit(CaseJoined(case_id=case.id, user_id=user.id, interest_count=case.interest_count, at=now))
