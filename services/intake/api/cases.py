"""Filing a case, the duplicates offered before filing, and reading cases."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from shared.deps import CurrentUser, English, SessionDep, Uow

from .. import access, duplicates, submission, views
from ..schemas import CaseCreate, CasePage, CaseView, DuplicateQuery, DuplicateView
from .deps import ReadableCase

router = APIRouter(tags=["诉求 cases"])


@router.post("/cases", status_code=201, response_model=CaseView,
             summary="提交诉求（居民、话务员代录、网格员巡查上报）submit a case",
             description="带 `Idempotency-Key` 头重试时返回同一诉求；同一个键配不同内容返回 409。"
                         "响应里的 `possible_duplicates` 是附近同类的未结诉求，可改为“它也影响我”。")
def submit_case(body: CaseCreate, user: CurrentUser, uow: Uow, english: English, response: Response,
                idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> CaseView:
    done = submission.submit(uow.session, uow.emit, user, body, idempotency_key)
    rel = "reporter" if done.case.reporter_id == user.id else "staff"
    if done.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
        return views.case_view(uow.session, done.case, user, rel, english=english)
    # Built from what is in hand (no re-reading the timeline): submission is the hot path.
    view = views.case_view(uow.session, done.case, user, rel, english=english, full=False,
                           first_entries=[done.first_entry])
    view.possible_duplicates = [views.duplicate_view(c, english) for c in done.possible_duplicates]
    return view


@router.post("/cases/duplicates", response_model=list[DuplicateView],
             summary="提交前查找疑似重复诉求 look for duplicates before submitting")
def find_duplicates(body: DuplicateQuery, user: CurrentUser, session: SessionDep,
                    english: English) -> list[DuplicateView]:
    return [views.duplicate_view(c, english) for c in duplicates.before_submitting(session, body, user)]


@router.get("/cases/{case_id}", response_model=CaseView, summary="查看诉求及进度 a case and its timeline",
            description="居民只看到公开进度；内部备注仅工作人员可见。保密诉求对办理人员不显示反映人。")
def get_case(user: CurrentUser, found: ReadableCase, session: SessionDep, english: English) -> CaseView:
    return views.case_view(session, found.case, user, found.relation, english=english)


@router.get("/cases", response_model=CasePage,
            summary="诉求列表：居民看到自己反映和关注的，工作人员看到全部 list cases")
def list_cases(user: CurrentUser, session: SessionDep, english: English, status: str | None = None,
               page: Annotated[int, Query(ge=1)] = 1,
               page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> CasePage:
    listed, total = access.listed_cases(session, user, status=status, page=page, page_size=page_size)
    return CasePage(items=[views.case_view(session, c.case, user, c.relation, english=english, full=False)
                           for c in listed], total=total, page=page, page_size=page_size)
