"""What staff decide about a case at intake: merging a duplicate into the case it repeats,
referring a dispute to mediation, setting the urgency, and internal notes."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.intake import CaseMerged, CaseReferred, CaseUrgencyChanged
from shared.uow import Emit

from . import access, timeline
from .models import Case
from .status import FINISHED, OPEN, set_status


def merge(session: Session, emit: Emit, child: Case, parent_case_id: str, user: User) -> None:
    """The child follows the parent's status and outcome from now on; its reporter counts as
    affected by the parent. Both must be in the merging user's scope."""
    access.check_merger(user)
    parent = access.readable(session, session.get(Case, parent_case_id, with_for_update=True), user,
                             field="parent_case_id").case
    if child.id == parent.id:
        raise ApiError(422, "case.merge_self", field="parent_case_id")
    if child.status == "merged":
        raise ApiError(409, "case.already_merged")
    if child.status in FINISHED:
        raise ApiError(409, "case.closed_for_changes", field="status")
    if parent.status not in OPEN or parent.parent_case_id is not None:
        raise ApiError(409, "case.merge_invalid", field="parent_case_id")
    now = utcnow()
    child.parent_case_id = parent.id
    set_status(child, "merged", now)
    child.evaluation_due_at = None
    parent.interest_count += child.interest_count
    parent.updated_at = now
    # Cases merged into the child earlier now point at the parent directly: no chains to follow.
    session.execute(update(Case).where(Case.parent_case_id == child.id).values(parent_case_id=parent.id))
    timeline.add(session, child.id, "merged", f"已与诉求 {parent.case_no} 合并办理，进度和结果以该诉求为准", at=now)
    timeline.add(session, parent.id, "merged_in", f"合并了重复诉求 {child.case_no}", public=False, at=now)
    emit(CaseMerged(child_case_id=child.id, parent_case_id=parent.id, by_id=user.id, at=now))


def refer(session: Session, emit: Emit, case: Case, user: User, dispute_type: str | None) -> None:
    """Staff 转调解: a case that turns out to be a dispute goes to people's mediation."""
    if case.status not in OPEN or case.route == "mediation":
        raise ApiError(409, "case.cannot_refer", field="status")
    now = utcnow()
    case.route = "mediation"
    set_status(case, "referred", now)
    timeline.add(session, case.id, "referred", "经工作人员研判，已转人民调解组织调解", at=now)
    emit(CaseReferred(case_id=case.id, case_no=case.case_no, category=case.category, dispute_type=dispute_type,
                      reporter_id=None if case.anonymous else case.reporter_id, lat=case.lat, lon=case.lon,
                      by_id=user.id, at=now))


def set_urgency(session: Session, emit: Emit, case: Case, user: User, urgency: str, reason: str | None) -> None:
    """Staff set any level (特急 included), which also decides a level the requester asked for
    (kept or changed, the request is answered); routing hears of it only when the level changed, and
    puts the open order on the clocks it now deserves (routing's clocks.profile_for). A finished case has no
    clock left to re-time and nobody to hurry: 409, and nothing is written."""
    if case.status in FINISHED:
        raise ApiError(409, "case.cannot_change_urgency", field="status")
    old, asked = case.urgency, case.requested_urgency
    case.urgency, case.requested_urgency, case.updated_at = urgency, None, utcnow()
    said = f"紧急程度由“{old}”调整为“{urgency}”" if old != urgency else f"紧急程度维持“{urgency}”"
    timeline.add(session, case.id, "urgency", said + (f"：{reason}" if reason else ""), public=False)
    if asked is not None:
        verdict = "已采纳" if urgency == asked else f"经研判定为“{urgency}”"
        timeline.add(session, case.id, "urgency_decided", f"反映人希望的紧急程度“{asked}”{verdict}")
    if old != urgency:
        emit(CaseUrgencyChanged(case_id=case.id, case_no=case.case_no, urgency=urgency, previous=old, by_id=user.id,
                                at=case.updated_at))


def add_note(session: Session, case: Case, text: str) -> None:
    """An internal note: staff only, never shown to residents (nor its phone and ID numbers to staff
    outside the phone roles: privacy.py)."""
    timeline.add(session, case.id, "note", text, public=False)
