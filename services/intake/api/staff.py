"""Staff triage at intake: merging duplicates, referring disputes, urgency, internal notes."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import English, StaffUser, Uow

from .. import triage, views
from ..schemas import CaseView, MergeBody, NoteBody, UrgencyBody
from .deps import LockedCase, answers

router = APIRouter(tags=["工作人员 staff"])

# The staff user comes first in each signature: someone who is not staff is refused (403) before
# the case is looked up.


@router.post("/cases/{case_id}/merge", response_model=CaseView,
             summary="合并重复诉求：本诉求随主诉求的状态和结果 merge a duplicate into a parent",
             description="两件诉求都须在您的范围内（否则 404）。", responses=answers(403, 404, 409))
def merge_case(user: StaffUser, child: LockedCase, body: MergeBody, uow: Uow, english: English) -> CaseView:
    triage.merge(uow.session, uow.emit, child.case, body.parent_case_id, user)
    return views.case_view(uow.session, child.case, user, "staff", english=english)


@router.post("/cases/{case_id}/refer", response_model=CaseView, summary="转人民调解 refer to mediation",
             responses=answers(403, 404, 409))
def refer_case(user: StaffUser, found: LockedCase, uow: Uow, english: English,
               dispute_type: Annotated[str | None, Query(max_length=40)] = None) -> CaseView:
    triage.refer(uow.session, uow.emit, found.case, user, dispute_type)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.post("/cases/{case_id}/urgency", response_model=CaseView,
             summary="研判并调整紧急程度（仅工作人员）staff decide the urgency",
             description="工作人员决定紧急程度（可定为特急），同时答复反映人希望的紧急程度（requested_urgency，"
                         "维持或调整均视为已研判并清除）。紧急程度改变时通知派单服务按新的时限重新计时："
                         "取紧急程度与类别时限方案中更严格的一档。已结束（撤回、结案、合并等）的诉求不能调整，"
                         "返回 409 case.cannot_change_urgency。",
             responses=answers(403, 404, 409))
def set_urgency(user: StaffUser, found: LockedCase, body: UrgencyBody, uow: Uow, english: English) -> CaseView:
    triage.set_urgency(uow.session, uow.emit, found.case, user, body.urgency, body.reason)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.post("/cases/{case_id}/notes", response_model=CaseView, summary="内部备注（居民不可见）internal note",
             description="备注中的电话和身份证号对话务员、管理员以外的工作人员脱敏显示。",
             responses=answers(403, 404))
def add_note(user: StaffUser, found: LockedCase, body: NoteBody, uow: Uow, english: English) -> CaseView:
    triage.add_note(uow.session, found.case, body.text)
    # A note changes no status and emits nothing: the audit trail records it here.
    uow.audit("intake.case.noted", subject_kind="case", subject_id=found.case.id)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)
