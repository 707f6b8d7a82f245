"""Intake's loaders: the case or file a request acts on, as far as the caller may reach it
(see access.py); anything out of reach is a 404. And the request-wide things its endpoints share:
the keyed hash of phones, the rate limits that depend on who is asking."""

from typing import Annotated

from fastapi import Depends, Path

from shared.deps import CurrentUser, Runtime, SessionDep
from shared.keys import BlindIndex
from shared.ratelimit import LimiterDep

from .. import access, privacy
from ..access import CaseAccess
from ..models import Attachment, Case

# Ids are UUIDs: a longer one cannot name anything (and is refused before any query).
CaseId = Annotated[str, Path(max_length=36, description="诉求 id case id")]
AttachmentId = Annotated[str, Path(max_length=36, description="附件 id attachment id")]


def readable_case(case_id: CaseId, session: SessionDep, user: CurrentUser) -> CaseAccess:
    return access.readable(session, session.get(Case, case_id), user)


def locked_case(case_id: CaseId, session: SessionDep, user: CurrentUser) -> CaseAccess:
    """Locked (FOR UPDATE) for a change, so two changes of one case never interleave."""
    return access.readable(session, session.get(Case, case_id, with_for_update=True), user)


def joinable_case(case_id: CaseId, session: SessionDep, user: CurrentUser) -> Case:
    return access.joinable(session.get(Case, case_id, with_for_update=True), user)


def readable_attachment(attachment_id: AttachmentId, session: SessionDep,
                        user: CurrentUser) -> tuple[Attachment, Case | None]:
    return access.readable_attachment(session, session.get(Attachment, attachment_id), user)


def phone_index(rt: Runtime) -> BlindIndex:
    return privacy.phone_index(rt)


def submission_limit(user: CurrentUser, limiter: LimiterDep) -> None:
    """Cases filed per user: a resident files a few an hour at most; staff taking calls many more."""
    if user.role == "resident":
        limiter.hit("intake.case.submit", "20/hour", f"u:{user.id}")
    else:
        limiter.hit("intake.case.submit_staff", "600/hour", f"u:{user.id}")


# A case and the caller's relation to it (reporter, follower, staff).
ReadableCase = Annotated[CaseAccess, Depends(readable_case)]
LockedCase = Annotated[CaseAccess, Depends(locked_case)]
# A case a resident found among the duplicates and may join without being its reader yet.
JoinableCase = Annotated[Case, Depends(joinable_case)]
# A file the caller may download, and the case it belongs to (None: an upload not yet used).
ReadableAttachment = Annotated[tuple[Attachment, Case | None], Depends(readable_attachment)]
PhoneIndex = Annotated[BlindIndex, Depends(phone_index)]
SubmissionLimit = Depends(submission_limit)

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
