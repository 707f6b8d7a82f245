"""居务公开: notices per category and period; corrections as new versions; read counts for the committee."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.db import utcnow
from shared.deps import CurrentUser, Uow

from .. import access, notices, views
from ..schemas import CorrectionIn, NoticeIn, NoticeView, ReadCount
from .deps import answers

router = APIRouter(tags=["居务公开 notices"])


@router.post("/notices", status_code=201, response_model=NoticeView,
             responses={**answers(403, 404), 422: {"description": "类别不存在或公开期不合理 bad category or period"}},
             summary="发布公开事项（社区、街道工作人员）publish a notice")
def publish(body: NoticeIn, user: CurrentUser, uow: Uow) -> NoticeView:
    area = access.managed_community(uow.session, user, body.community_code)
    now = utcnow()
    notice = notices.publish(uow.session, uow.emit, community_code=area.code, category=body.category,
                             title=body.title, body=body.body, publish_from=body.publish_from or now,
                             publish_until=body.publish_until, by=user.id, now=now)
    return views.notice(notice)


@router.get("/notices", response_model=list[NoticeView],
            summary="公开事项（居民：本社区公开期内的最新版本；工作人员：辖区全部）notices")
def list_notices(user: CurrentUser, uow: Uow,
                 community_code: Annotated[str | None, Query(max_length=32, description="社区编码 community")] = None,
                 category: Annotated[str | None, Query(max_length=32, description="类别 category")] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[NoticeView]:
    allowed = access.readable_communities(uow.session, user)
    codes = access.narrowed(allowed, community_code)
    rows = notices.listed(uow.session, codes, category=category, current_only=not user.is_staff, now=utcnow(),
                          limit=limit, offset=offset)
    return [views.notice(n) for n in rows]


@router.get("/notices/{notice_id}", response_model=NoticeView, responses=answers(404),
            summary="阅读公开事项（居民阅读计数）read a notice")
def read_notice(notice_id: str, user: CurrentUser, uow: Uow) -> NoticeView:
    notice = access.readable_notice(uow.session, user, notice_id)
    if not user.is_staff:
        notices.mark_read(uow.session, notice, user.id, utcnow())
    return views.notice(notice)


@router.get("/notices/{notice_id}/versions", response_model=list[NoticeView], responses=answers(404),
            summary="各版本（更正记录，原版本保留不改）every version")
def versions(notice_id: str, user: CurrentUser, uow: Uow) -> list[NoticeView]:
    notice = access.readable_notice(uow.session, user, notice_id)
    now = utcnow()
    return [views.notice(n) for n in notices.versions(uow.session, notice)
            if user.is_staff or n.publish_from <= now]  # a resident sees the versions published so far


@router.post("/notices/{notice_id}/corrections", status_code=201, response_model=NoticeView,
             responses=answers(403, 404, 409), summary="更正：发布新版本，原版本保留 correct as a new version")
def correct(notice_id: str, body: CorrectionIn, user: CurrentUser, uow: Uow) -> NoticeView:
    notice = access.managed_notice(uow.session, user, notice_id)
    new = notices.correct(uow.session, uow.emit, notice, title=body.title, body=body.body, reason=body.reason,
                          by=user.id, now=utcnow())
    return views.notice(new)


@router.get("/notices/{notice_id}/reads", response_model=list[ReadCount], responses=answers(403, 404),
            summary="阅读人数（各版本，社区工作人员）read counts")
def reads(notice_id: str, user: CurrentUser, uow: Uow) -> list[ReadCount]:
    notice = access.managed_notice(uow.session, user, notice_id)
    return [ReadCount(**r) for r in notices.read_counts(uow.session, notice)]
