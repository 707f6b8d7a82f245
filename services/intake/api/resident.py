"""The reporter's changes to a case, and joining a neighbour's (它也影响我)."""

from typing import Annotated

from fastapi import APIRouter, Body

from shared.deps import CurrentUser, English, Uow

from .. import changes, evaluation, views
from ..schemas import CaseView, EvaluationBody, ReasonBody, ReopenBody, SupplementBody
from .deps import JoinableCase, LockedCase, answers

router = APIRouter(tags=["居民 resident"])


@router.post("/cases/{case_id}/supplements", response_model=CaseView, summary="补充材料 add material",
             responses=answers(403, 404, 409))
def add_supplement(body: SupplementBody, user: CurrentUser, found: LockedCase, uow: Uow,
                   english: English) -> CaseView:
    changes.supplement(uow.session, uow.emit, found.case, user, body)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.post("/cases/{case_id}/withdraw", response_model=CaseView,
             summary="撤回（办理开始前）withdraw before handling starts",
             responses=answers(403, 404, 409))
def withdraw_case(user: CurrentUser, found: LockedCase, uow: Uow, english: English,
                  body: Annotated[ReasonBody | None, Body()] = None) -> CaseView:
    changes.withdraw(uow.session, uow.emit, found.case, user, body.reason if body else None)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.post("/cases/{case_id}/reopen", response_model=CaseView,
             summary="不满意时重启诉求（期限内）reopen when not satisfied",
             responses=answers(403, 404, 409))
def reopen_case(body: ReopenBody, user: CurrentUser, found: LockedCase, uow: Uow, english: English) -> CaseView:
    changes.reopen(uow.session, uow.emit, found.case, user, body)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.post("/cases/{case_id}/evaluation", response_model=CaseView,
             summary="回访评价（居民本人，或话务员电话回访记录）callback evaluation",
             responses=answers(403, 404, 409))
def evaluate_case(body: EvaluationBody, user: CurrentUser, found: LockedCase, uow: Uow,
                  english: English) -> CaseView:
    evaluation.evaluate(uow.session, uow.emit, found.case, user, body)
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.post("/cases/{case_id}/join", response_model=CaseView,
             summary="它也影响我：关注已有诉求而不重复提交 join an existing case",
             responses=answers(403, 404, 409))
def join_case(user: CurrentUser, case: JoinableCase, uow: Uow, english: English) -> CaseView:
    changes.join(uow.session, uow.emit, case, user)
    return views.case_view(uow.session, case, user, "follower", english=english)
