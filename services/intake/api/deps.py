"""Intake's loaders: the case or file a request acts on, as far as the caller may reach it
(see access.py); anything out of reach is a 404. And the request-wide things its endpoints share:
the keyed hash of phones, the rate limits that depend on who is asking."""

from typing import Annotated

from fastapi import Depends, Path, Request

from shared.auth import User
from shared.deps import CurrentUser, Runtime, SessionDep, Uow
from shared.keys import BlindIndex
from shared.ratelimit import Limiter, LimiterDep, Quota, client_address
from shared.uow import UnitOfWork

from .. import access, privacy
from ..access import CaseAccess
from ..models import Attachment, Case

# Ids are UUIDs: a longer one cannot name anything (and is refused before any query).
CaseId = Annotated[str, Path(max_length=36, description="诉求 id case id")]
AttachmentId = Annotated[str, Path(max_length=36, description="附件 id attachment id")]


def conceal_own(uow: UnitOfWork, user: User, case: Case | None, relation: str | None) -> None:
    """A resident acting on her own anonymous or confidential case: the request's audit entries
    name her by a pseudonym (access.conceals), from before anything is recorded."""
    if case is not None and access.conceals(user, case.anonymous, case.confidential, relation):
        uow.conceal_actor()


def readable_case(case_id: CaseId, uow: Uow, user: CurrentUser) -> CaseAccess:
    found = access.readable(uow.session, uow.session.get(Case, case_id), user)
    conceal_own(uow, user, found.case, found.relation)
    return found


def locked_case(case_id: CaseId, uow: Uow, user: CurrentUser) -> CaseAccess:
    """Locked (FOR UPDATE) for a change, so two changes of one case never interleave."""
    found = access.readable(uow.session, uow.session.get(Case, case_id, with_for_update=True), user)
    conceal_own(uow, user, found.case, found.relation)
    return found


def joinable_case(case_id: CaseId, session: SessionDep, user: CurrentUser) -> Case:
    return access.joinable(session.get(Case, case_id, with_for_update=True), user)


def readable_attachment(attachment_id: AttachmentId, uow: Uow,
                        user: CurrentUser) -> tuple[Attachment, Case | None]:
    attachment, case = access.readable_attachment(uow.session, uow.session.get(Attachment, attachment_id), user)
    own = case is not None and (attachment.owner_id == user.id or access.is_requester(case, user))
    conceal_own(uow, user, case, "reporter" if own else None)
    return attachment, case


async def phone_index(rt: Runtime) -> BlindIndex:
    return privacy.phone_index(rt)


def _per_user_and_address(limiter: Limiter, request: Request, user_id: str, name: str, per_user: str,
                          per_address: str) -> None:
    """Counted for the user and for the address the request came from (several accounts from one
    place). The address has its own, higher figure (`<name>.address`): a call centre or a carrier's
    shared address stands for many honest users."""
    limiter.hit(name, per_user, f"u:{user_id}")
    limiter.hit(f"{name}.address", per_address, f"a:{client_address(request)}")


def per_user_and_address(name: str, per_user: str, per_address: str):
    """A route dependency (like shared.ratelimit.limit(..., per="both")) with a figure of its own
    for the address."""
    def check(request: Request, user: CurrentUser, limiter: LimiterDep) -> None:
        _per_user_and_address(limiter, request, user.id, name, per_user, per_address)

    return Depends(check)


async def submission_quota(request: Request, user: CurrentUser, limiter: LimiterDep) -> Quota:
    """Cases filed per user and per address: a resident files a few an hour at most; staff taking
    calls many more. Only a case filed counts: a submission refused for a wrong map point, say, does not
    use up her hour. The endpoint checks and counts it in the thread that files the case (the counter is
    I/O, and a thread hop of its own cost the hot path ~8 % of the API's CPU, issue 15)."""
    name, per_user, per_address = (("intake.case.submit", "20/hour", "100/hour") if user.role == "resident" else
                                   ("intake.case.submit_staff", "600/hour", "6000/hour"))
    return Quota(limiter, [(name, per_user, f"u:{user.id}"),
                           (f"{name}.address", per_address, f"a:{client_address(request)}")])


# A case and the caller's relation to it (reporter, follower, staff).
ReadableCase = Annotated[CaseAccess, Depends(readable_case)]
LockedCase = Annotated[CaseAccess, Depends(locked_case)]
# A case a resident found among the duplicates and may join without being its reader yet.
JoinableCase = Annotated[Case, Depends(joinable_case)]
# A file the caller may download, and the case it belongs to (None: an upload not yet used).
ReadableAttachment = Annotated[tuple[Attachment, Case | None], Depends(readable_attachment)]
PhoneIndex = Annotated[BlindIndex, Depends(phone_index)]
SubmissionQuota = Annotated[Quota, Depends(submission_quota)]
# Uploads and the hotline's phone lookups, per user and per address.
UploadLimit = per_user_and_address("intake.upload", "60/hour", "300/hour")
LookupLimit = per_user_and_address("intake.hotline.lookup", "60/hour", "600/hour")

ANSWERS = {
    400: "请求头不合法（如幂等键）a malformed header, e.g. the Idempotency-Key",
    403: "您的角色或与诉求的关系不允许此操作 your role or relation to the case does not allow it",
    404: "不存在，或不在您可见的范围内 no such thing within your reach",
    409: "与当前状态冲突 it conflicts with the current state",
    415: "不支持的文件类型 the file type is not accepted",
}


def answers(*codes: int) -> dict:
    """The `responses=` of an endpoint: the statuses it answers besides the shared ones."""
    return {code: {"description": ANSWERS[code]} for code in codes}
