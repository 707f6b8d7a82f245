"""Intake's loaders: the case or file a request acts on, as far as the caller may reach it
(see access.py); anything out of reach is a 404."""

from typing import Annotated

from fastapi import Depends

from shared.deps import CurrentUser, SessionDep

from .. import access
from ..access import CaseAccess
from ..models import Attachment, Case


def readable_case(case_id: str, session: SessionDep, user: CurrentUser) -> CaseAccess:
    return access.readable(session, session.get(Case, case_id), user)


def locked_case(case_id: str, session: SessionDep, user: CurrentUser) -> CaseAccess:
    """Locked (FOR UPDATE) for a change, so two changes of one case never interleave."""
    return access.readable(session, session.get(Case, case_id, with_for_update=True), user)


def joinable_case(case_id: str, session: SessionDep, user: CurrentUser) -> Case:
    return access.joinable(session.get(Case, case_id, with_for_update=True), user)


def readable_attachment(attachment_id: str, session: SessionDep, user: CurrentUser) -> Attachment:
    return access.readable_attachment(session, session.get(Attachment, attachment_id), user)


# A case and the caller's relation to it (reporter, follower, staff).
ReadableCase = Annotated[CaseAccess, Depends(readable_case)]
LockedCase = Annotated[CaseAccess, Depends(locked_case)]
# A case a resident found among the duplicates and may join without being its reader yet.
JoinableCase = Annotated[Case, Depends(joinable_case)]
ReadableAttachment = Annotated[Attachment, Depends(readable_attachment)]
