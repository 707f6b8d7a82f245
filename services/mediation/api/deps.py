"""Mediation's dependencies: the audited unit of work, and the dispute of the path as its reader may see it.

    @router.get("/disputes/{dispute_id}")
    def get_dispute(seen: Annotated[Access, readable("read.dispute")], uow: AuditedUow) -> DisputeView:

`readable(action)` and `managing(action)` audit the read (or the refusal) under `action` in the
request's audited unit of work, which is the same `AuditedUow` the endpoint gets (one per request).
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends

from shared.deps import CorrelationId, CurrentUser, Runtime
from shared.uow import UnitOfWork

from .. import access
from ..access import Access


def audited_unit_of_work(rt: Runtime, request_id: CorrelationId) -> Iterator[UnitOfWork]:
    with access.audited(rt, request_id) as uow:
        yield uow


# One transaction per request, like shared.deps.Uow (committed when the endpoint returns, before the
# response is sent), whose audit rows are written again if the request fails.
AuditedUow = Annotated[UnitOfWork, Depends(audited_unit_of_work, scope="function")]


def readable(action: str):
    """The dispute of the path and the reader's capacity; 404 to anyone who may not see it."""

    def load_readable(dispute_id: str, user: CurrentUser, uow: AuditedUow) -> Access:
        return access.readable(uow.session, dispute_id, user, action)

    return Depends(load_readable)


def managing(action: str):
    """The dispute of the path, for an act only its mediators or the committee's head may do (403 otherwise)."""

    def load_managed(dispute_id: str, user: CurrentUser, uow: AuditedUow) -> Access:
        return access.managing(uow.session, dispute_id, user, action)

    return Depends(load_managed)
