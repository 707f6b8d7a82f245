"""Intake's REST API under /intake/v1."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.auth import CurrentUser, User
from shared.errors import ApiError
from shared.runtime import ServiceRuntime
from shared.web import correlation_id

from . import cases
from .catalogue import categories
from .models import STATUS_LABELS, Case
from .schemas import CaseCreate, CasePage, CaseView, TimelineView


def _view(case: Case, timeline=None) -> CaseView:
    category = categories().get(case.category)
    return CaseView(
        id=case.id, case_no=case.case_no, status=case.status,
        status_label=STATUS_LABELS.get(case.status, (case.status,))[0],
        appeal_type=case.appeal_type, category=case.category,
        category_name=category.name if category else case.category,
        description=case.description, urgency=case.urgency, channel=case.channel,
        lat=case.lat, lon=case.lon, address=case.address, unit_name=case.unit_name,
        created_at=case.created_at, updated_at=case.updated_at,
        timeline=[TimelineView(at=t.at, kind=t.kind, text=t.text) for t in timeline or []],
    )


def _readable(case: Case | None, user: User) -> Case:
    # A resident sees only their own cases; say "not found" rather than reveal that it exists.
    if case is None or (not user.is_staff and case.reporter_id != user.id):
        raise ApiError(404, "case.not_found", field="case_id")
    return case


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["诉求 cases"])

    @api.post("/cases", status_code=201, response_model=CaseView, summary="提交诉求 submit a case")
    def submit_case(body: CaseCreate, user: CurrentUser,
                    correlation: Annotated[str, Depends(correlation_id)]) -> CaseView:
        category = categories().get(body.category)
        if category is None:
            raise ApiError(422, "case.unknown_category", field="category")
        with rt.uow() as session:
            case, first_entry = cases.submit(session, rt.outbox, reporter_id=user.id, body=body,
                                             urgency=category.urgency, correlation_id=correlation)
        return _view(case, [first_entry])

    @api.get("/cases/{case_id}", response_model=CaseView, summary="查看诉求及进度 a case and its timeline")
    def get_case(case_id: str, user: CurrentUser) -> CaseView:
        with rt.uow() as session:
            case = _readable(session.get(Case, case_id), user)
            return _view(case, cases.timeline(session, case.id, include_internal=user.is_staff))

    @api.get("/cases", response_model=CasePage, summary="诉求列表（居民只看到自己的）list cases")
    def list_cases(user: CurrentUser, status: str | None = None,
                   page: Annotated[int, Query(ge=1)] = 1,
                   page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> CasePage:
        with rt.uow() as session:
            rows, total = cases.page_of_cases(
                session, reporter_id=None if user.is_staff else user.id, status=status, page=page,
                page_size=page_size)
            return CasePage(items=[_view(c) for c in rows], total=total, page=page, page_size=page_size)

    return api
