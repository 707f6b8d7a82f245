"""A dispute's life: application (or a committee's own initiative), my disputes, the record, acceptance,
withdrawal and termination."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shared import offline
from shared.deps import CurrentUser
from shared.ratelimit import LimiterDep, client_address

from .. import access, disputes, views
from ..access import Access
from ..models import IdempotencyKey
from ..schemas import DisputeCreate, DisputeSummary, DisputeView, TerminateIn
from .deps import AuditedUow, PhoneIndexDep, answers, managing, readable

router = APIRouter(tags=["调解案件 disputes"])

# Applications per account (a resident applies for herself; mediators enter walk-in applications for many)
# and per address (many accounts from one place), each counted on its own; a deployment changes them with
# CG_RATE_LIMITS. An office or a carrier's NAT shares one address: its limit is far above one person's.
APPLY_LIMITS = {"resident": ("dispute.apply", "10/day")}
STAFF_APPLY_LIMIT = ("dispute.apply.staff", "200/day")
ADDRESS_APPLY_LIMIT = ("dispute.apply.address", "60/hour")


@router.post("/disputes", status_code=201, response_model=DisputeView,
             summary="申请调解、代为登记调解申请或主动调解 apply for mediation, enter a walk-in, or open one",
             description="居民只能以本人名义申请（申请人手机号须为本人已验证的手机号），向纠纷发生地的社区调解委员会"
                         "或受理该类纠纷的专业调解委员会申请；调解员、调解委员会主任代为登记来访当事人的申请（登记到"
                         "本人所在或担任主任的委员会，当事人经当面核实身份或短信验证后方可表示同意）；调解员可主动调解"
                         "（本委员会）。其他工作人员不能登记调解申请（诉求转调解由诉求服务发起）。"
                         "带 `Idempotency-Key` 头重试时返回首次的应答（200，响应头 Idempotent-Replayed: true），"
                         "不再登记；同一个键配不同内容返回 409 idempotency.key_reused。",
             responses={200: {"description": "同一幂等键的重试：返回首次登记的调解案件，不再登记 a retry with the "
                                             "same Idempotency-Key: the dispute filed before", "model": DisputeView},
                        400: {"description": "幂等键格式不正确 idempotency.key_invalid"},
                        409: {"description": "该幂等键已用于另一份不同的申请 idempotency.key_reused"},
                        403: {"description": "只有调解员可以主动发起调解；只有调解员或调解委员会主任可以代为登记"
                                             "调解申请 only mediators open one themselves; only mediators or a "
                                             "committee's head enter an application for someone"},
                        429: {"description": "申请过于频繁（每个居民每天 10 件，每个地址每小时 60 件，见 Retry-After）"
                                             "too many applications"}})
def create_dispute(body: DisputeCreate, user: CurrentUser, uow: AuditedUow, limiter: LimiterDep,
                   index: PhoneIndexDep, request: Request, response: Response,
                   key: offline.KeyHeader = None) -> DisputeView:
    limiter.hit(*APPLY_LIMITS.get(user.role, STAFF_APPLY_LIMIT), f"u:{user.id}")
    limiter.hit(*ADDRESS_APPLY_LIMIT, f"a:{client_address(request)}")

    def apply() -> DisputeView:
        located = disputes.located(body)  # in WGS-84 from here on: the committee is chosen by it, and it is stored
        dispute = disputes.submit(uow.session, uow.emit, located, user, index,
                                  access.filing(uow.session, user, located, index))
        return views.dispute(uow.session, dispute, access.created(uow, dispute, user))

    _status, answer, replayed = offline.once(uow.session, IdempotencyKey, user.id, key, "dispute.apply", None, body,
                                             apply, 201)
    if replayed:  # as intake's POST /cases answers a retry
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return answer


@router.get("/disputes", response_model=list[DisputeSummary],
            summary="我的调解案件（当事人、调解员、委员会主任）my disputes")
def list_disputes(user: CurrentUser, uow: AuditedUow,
                  status: Annotated[str | None, Query(max_length=16, description="按状态筛选 by status")] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[DisputeSummary]:
    return [views.summary(d) for d in access.listed(uow, user, status, limit, offset)]


@router.get("/disputes/{dispute_id}", response_model=DisputeView, responses=answers(404),
            summary="调解案件详情（仅当事人、本案调解员、委员会主任）a dispute's record")
def get_dispute(seen: Annotated[Access, readable("read.dispute")], uow: AuditedUow) -> DisputeView:
    return views.dispute(uow.session, seen.dispute, seen.capacity)


@router.post("/disputes/{dispute_id}/accept", response_model=DisputeView, responses=answers(403, 404, 409),
             summary="受理（各方当事人均已同意）accept for mediation")
def accept(seen: Annotated[Access, managing("write.accept")], user: CurrentUser, uow: AuditedUow) -> DisputeView:
    disputes.accept(uow.session, uow.emit, seen.dispute)
    return views.dispute(uow.session, seen.dispute, access.after_assignment(uow.session, seen.dispute, user))


@router.post("/disputes/{dispute_id}/withdraw", response_model=DisputeView, responses=answers(403, 404, 409),
             summary="申请人撤回 withdraw")
def withdraw(seen: Annotated[Access, readable("write.withdraw")], user: CurrentUser, uow: AuditedUow) -> DisputeView:
    disputes.withdraw(uow.session, uow.emit, seen.dispute, user.id)
    return views.dispute(uow.session, seen.dispute, seen.capacity)


@router.post("/disputes/{dispute_id}/terminate", response_model=DisputeView, responses=answers(403, 404, 409),
             summary="终止调解（调解不成），告知其他途径 terminate")
def terminate(body: TerminateIn, seen: Annotated[Access, managing("write.terminate")],
              uow: AuditedUow) -> DisputeView:
    disputes.terminate(uow.session, uow.emit, seen.dispute, body.reason, body.routes)
    return views.dispute(uow.session, seen.dispute, seen.capacity)  # the committee's head sees contact details masked
