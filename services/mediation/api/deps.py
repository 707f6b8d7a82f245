"""Mediation's dependencies: the audited unit of work, the dispute of the path as its reader may see it,
and the phone index of the deployment.

    @router.get("/disputes/{dispute_id}")
    def get_dispute(seen: Annotated[Access, readable("read.dispute")], uow: AuditedUow) -> DisputeView:

`readable(action)` and `managing(action)` audit the read (or the refusal) under `action` in the
request's audited unit of work, which is the same `AuditedUow` the endpoint gets (one per request).
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from shared.deps import CorrelationId, CurrentUser, Runtime, request_actor
from shared.uow import UnitOfWork

from .. import access
from ..access import Access
from ..parties import PhoneIndex, phone_index


def audited_unit_of_work(rt: Runtime, request: Request, request_id: CorrelationId) -> Iterator[UnitOfWork]:
    with access.audited(rt, request_id, actor=lambda: request_actor(request)) as uow:
        yield uow


# One transaction per request, like shared.deps.Uow (committed when the endpoint returns, before the
# response is sent), whose read entries are written again if the request fails.
AuditedUow = Annotated[UnitOfWork, Depends(audited_unit_of_work, scope="function")]


async def get_phone_index(rt: Runtime) -> PhoneIndex:
    return phone_index(rt)


PhoneIndexDep = Annotated[PhoneIndex, Depends(get_phone_index)]


def readable(action: str):
    """The dispute of the path and the reader's capacity; 404 to anyone who may not see it."""

    def load_readable(dispute_id: str, user: CurrentUser, uow: AuditedUow) -> Access:
        return access.readable(uow, dispute_id, user, action)

    return Depends(load_readable)


def managing(action: str):
    """The dispute of the path, for an act only its mediators or the committee's head may do (403 otherwise)."""

    def load_managed(dispute_id: str, user: CurrentUser, uow: AuditedUow) -> Access:
        return access.managing(uow, dispute_id, user, action)

    return Depends(load_managed)


# What an endpoint may answer besides the shared layer's statuses (shared/http.py), for its `responses=`.
_ANSWERS = {
    403: "角色或身份不允许（如当事人执行调解员的操作、代替其他当事人表态）not allowed in this capacity",
    404: "无此调解案件，或您无权查看（不透露是否存在）；或路径中的当事人、会议、延期、协议、回访不存在 not found",
    409: "与案件当前状态冲突（已结束、已受理、已表态、已签订，或代为登记意见的当事人尚未当面核实身份等）"
         "conflicts with the dispute's state (or the party answered for in person is not verified yet)",
}


def answers(*codes: int) -> dict:
    return {code: {"description": _ANSWERS[code]} for code in codes}
