"""A dispute's life: application (or a committee's own initiative), my disputes, the record, acceptance,
withdrawal and termination."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import CurrentUser
from shared.ratelimit import LimiterDep

from .. import access, disputes, views
from ..access import Access
from ..schemas import DisputeCreate, DisputeSummary, DisputeView, TerminateIn
from .deps import AuditedUow, PhoneIndexDep, answers, managing, readable

router = APIRouter(tags=["调解案件 disputes"])

# Applications a day per account: a resident applies for herself; staff enter walk-in applications for many.
APPLY_LIMITS = {"resident": ("dispute.apply", "10/day")}
STAFF_APPLY_LIMIT = ("dispute.apply.staff", "200/day")


@router.post("/disputes", status_code=201, response_model=DisputeView,
             summary="申请调解或主动调解 apply for mediation (or open one as a committee)",
             responses={403: {"description": "只有调解员可以主动发起调解 only mediators open one themselves"},
                        429: {"description": "申请过于频繁（居民每天 10 件，见 Retry-After）too many applications"}})
def create_dispute(body: DisputeCreate, user: CurrentUser, uow: AuditedUow, limiter: LimiterDep,
                   index: PhoneIndexDep) -> DisputeView:
    limiter.hit(*APPLY_LIMITS.get(user.role, STAFF_APPLY_LIMIT), f"u:{user.id}")
    dispute = disputes.submit(uow.session, uow.emit, body, user, index)
    return views.dispute(uow.session, dispute, access.created(uow, dispute, user))


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
