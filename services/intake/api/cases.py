"""Filing a case, the duplicates offered before filing, and reading cases."""

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from shared.auth import User
from shared.deps import CurrentUser, English, InThreadDep, SessionDep, Uow
from shared.keys import BlindIndex
from shared.ratelimit import Quota, limit
from shared.uow import UnitOfWork
from shared.web import model_answer

from .. import access, duplicates, privacy, submission, views
from ..schemas import ORDER_NO, CaseCreate, CasePage, CaseView, DuplicateQuery, DuplicateView
from ..status import STATUSES
from .deps import PhoneIndex, ReadableCase, SubmissionQuota, answers

router = APIRouter(tags=["诉求 cases"])
# A status filter is one of the statuses: an unknown one is refused as any other invalid query (with its errors).
StatusCode = Literal[tuple(STATUSES)]


@router.post("/cases", status_code=201, response_model=CaseView,
             summary="提交诉求（居民、话务员代录、网格员巡查上报）submit a case",
             description="带 `Idempotency-Key` 头重试时返回同一诉求（200）；同一个键配不同内容返回 409。"
                         "响应里的 `possible_duplicates` 是附近同类的未结诉求，可改为“它也影响我”。"
                         "话务员代录的诉求归属于来电号码（不再接受 caller_user_id）："
                         "以该号码为已验证手机号的居民能看到它。"
                         "居民每小时最多提交 20 件（同一地址 100 件）；工作人员每人每小时 600 件（同一地址 6000 件）；"
                         "只计已受理的诉求，被拒绝的提交和同一幂等键的重试不计。"
                         "工作人员代为登记电话时须记录本人是否同意（consent）。"
                         "提供坐标（lat/lon）时须注明坐标系 coord_system（见字段说明：小程序地图选点为 gcj02），"
                         "且须在服务范围内，否则 422（case.coord_system_required、case.outside_service_area）。"
                         "居民填写的 urgency 是请求，记为 requested_urgency，由工作人员研判；"
                         "引用知识库条目（knowledge_id）须为现行条目，否则 422。",
             responses={200: {"description": "同一幂等键的重试：返回原诉求 a retry: the case filed before",
                              "model": CaseView}, **answers(400, 403, 409)})
async def submit_case(body: CaseCreate, user: CurrentUser, uow: Uow, english: English, response: Response,
                      index: PhoneIndex, quota: SubmissionQuota, in_thread: InThreadDep,
                      idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Response:
    # The hot path (issue 15): filing and its COMMIT in one thread hop.
    return await in_thread(_submit_case, body, user, uow, english, response, index, quota, idempotency_key)


def _submit_case(body: CaseCreate, user: User, uow: UnitOfWork, english: bool, response: Response,
                 index: BlindIndex, quota: Quota, idempotency_key: str | None) -> Response:
    if access.conceals(user, body.anonymous, body.confidential):  # her own anonymous or confidential report
        uow.conceal_actor()
    # A 429 rolls back what was written before it (the key's claim): it changes nothing.
    done = submission.submit(uow.session, uow.emit, user, body, idempotency_key, index, before_filing=quota.check)
    rel = "reporter" if access.is_reporter(done.case, user) else "staff"
    if done.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
        return model_answer(views.case_view(uow.session, done.case, user, rel, english=english), response, 201)
    quota.count()  # a case filed (a retry, or a refusal raised above, is not)
    # Built from what is in hand (no re-reading the timeline): submission is the hot path. Its files are read
    # back only when it attached some.
    view = views.case_view(uow.session, done.case, user, rel, english=english, full=False,
                           first_entries=[done.first_entry], with_files=bool(body.attachment_ids))
    masked = privacy.masks_free_text(user, "staff")
    view.possible_duplicates = [views.duplicate_view(c, english, masked) for c in done.possible_duplicates]
    return model_answer(view, response, 201)


@router.post("/cases/duplicates", response_model=list[DuplicateView],
             summary="提交前查找疑似重复诉求 look for duplicates before submitting",
             description="坐标须注明坐标系 coord_system 并位于服务范围内，规则与提交诉求相同。",
             dependencies=[limit("intake.duplicates", "120/hour", per="user")])
def find_duplicates(body: DuplicateQuery, user: CurrentUser, session: SessionDep,
                    english: English) -> list[DuplicateView]:
    masked = privacy.masks_free_text(user, "staff")
    return [views.duplicate_view(c, english, masked) for c in duplicates.before_submitting(session, body, user)]


@router.get("/cases/{case_id}", response_model=CaseView, summary="查看诉求及进度 a case and its timeline",
            description="居民只看到公开进度；内部备注仅工作人员可见。保密诉求对办理人员不显示反映人和地址，"
                        "工作人员每次查看保密诉求都记入审计。不在您范围内的诉求返回 404。",
            responses=answers(404))
def get_case(user: CurrentUser, found: ReadableCase, uow: Uow, english: English) -> CaseView:
    privacy.record_read(uow.audit, found.case, user, "case")
    return views.case_view(uow.session, found.case, user, found.relation, english=english)


@router.get("/cases", response_model=CasePage,
            summary="诉求列表：居民看到自己反映和关注的，工作人员看到本单位范围内的 list cases",
            description="范围：居民为本人反映（含以其已验证手机号代录的）和关注的；话务员为本人登记的；"
                        "网格员、部门为本单位承办或协办过的；社区、街道、督办人员另含本辖区的；管理员为全部。"
                        "external_no 按 12345 平台工单编号查找（仍限于您的范围）。")
def list_cases(user: CurrentUser, uow: Uow, english: English,
               status: Annotated[StatusCode | None, Query(description="状态代码 a status code")] = None,
               page: Annotated[int, Query(ge=1, le=10000, description="页码 page, from 1")] = 1,
               page_size: Annotated[int, Query(ge=1, le=100, description="每页条数 page size")] = 20,
               urgency_requested: Annotated[bool | None, Query(
                   description="true：只列反映人希望提高紧急程度、尚待研判的诉求 only cases whose requester "
                               "asked for a higher urgency not yet decided")] = None,
               external_no: Annotated[str | None, Query(
                   max_length=64, pattern=ORDER_NO,
                   description="12345 平台工单编号：只列该工单导入的诉求（在您的范围内）the platform's order number"
               )] = None) -> CasePage:
    listed, total = access.listed_cases(uow.session, user, status=status, page=page, page_size=page_size,
                                        urgency_requested=urgency_requested, external_no=external_no)
    for c in listed:
        privacy.record_read(uow.audit, c.case, user, "list")
    return CasePage(items=[views.case_view(uow.session, c.case, user, c.relation, english=english, full=False)
                           for c in listed], total=total, page=page, page_size=page_size)
