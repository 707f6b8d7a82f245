"""Who may see and do what: a reader's relation to a case, the cases a user lists or looks up, the
files they download, and the roles of staff actions.

Out of scope is "not found" (404), never a hint that the case exists. The rules of each change
(who may withdraw, reopen, evaluate ...) sit with the change itself; `abilities` tells a reader
in advance which of them they may use.
"""

from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared import phones
from shared.auth import User
from shared.errors import ApiError

from . import config
from .models import Attachment, Case, Evaluation, Follower
from .status import FINISHED, STATUSES


class CaseAccess(NamedTuple):
    case: Case
    relation: str  # reporter, follower (它也影响我) or staff


def is_reporter(case: Case, user: User) -> bool:
    return case.reporter_id is not None and case.reporter_id == user.id


def relation(session: Session, case: Case, user: User) -> str | None:
    if is_reporter(case, user):
        return "reporter"
    if user.is_staff:
        return "staff"
    if session.get(Follower, (case.id, user.id)) is not None:
        return "follower"
    return None


def readable(session: Session, case: Case | None, user: User) -> CaseAccess:
    # Anyone else: "not found" rather than reveal that it exists.
    rel = relation(session, case, user) if case is not None else None
    if rel is None:
        raise ApiError(404, "case.not_found", field="case_id")
    return CaseAccess(case, rel)


def joinable(case: Case | None, user: User) -> Case:
    """Joining is how a resident reaches a case found by the duplicate lookup: they need not be its
    reader yet, but they only learn what the duplicate list shows. A confidential case is never
    offered to other residents: it cannot be joined either, and "not found" does not reveal it."""
    if case is None or (case.confidential and case.reporter_id != user.id):
        raise ApiError(404, "case.not_found", field="case_id")
    if user.is_staff:
        raise ApiError(403, "auth.forbidden")
    return case


def readable_attachment(session: Session, attachment: Attachment | None, user: User) -> Attachment:
    """The owner's own uploads, and the files of a case its reporter or staff read."""
    if attachment is None:
        raise ApiError(404, "attachment.not_found")
    if attachment.owner_id == user.id:
        return attachment
    if attachment.case_id is None:
        raise ApiError(404, "attachment.not_found")
    case = session.get(Case, attachment.case_id)
    rel = relation(session, case, user) if case is not None else None
    # A follower is not served: the reporter's photos are theirs, not every neighbour's who joined.
    if rel not in ("reporter", "staff"):
        raise ApiError(404, "attachment.not_found")
    return attachment


def abilities(session: Session, case: Case, user: User, rel: str) -> dict[str, bool]:
    """What this reader may do with the case now (the `can` of its view)."""
    cfg = config.get()
    reporter = rel == "reporter"
    evaluable = case.status in cfg.evaluable_statuses and (reporter or user.role == "operator")
    if evaluable:
        evaluable = session.scalar(select(Evaluation.id).where(Evaluation.case_id == case.id,
                                                               Evaluation.work_order_id == case.work_order_id)) is None
    return {
        "withdraw": reporter and case.status in cfg.withdrawable_statuses and case.interest_count <= 1,
        "supplement": (reporter or rel == "staff") and case.status not in FINISHED,
        "reopen": reporter and case.status in cfg.reopenable_statuses and case.reopen_count < cfg.max_reopens,
        "evaluate": evaluable,
        "join": rel not in ("reporter", "follower") and not user.is_staff and case.status not in FINISHED,
    }


def listed_cases(session: Session, user: User, *, status: str | None, page: int,
                 page_size: int) -> tuple[list[CaseAccess], int]:
    """A page of the user's list: staff see every case, a resident their own and those they follow."""
    if status is not None and status not in STATUSES:
        raise ApiError(422, "validation.not_allowed", field="status")
    query = select(Case)
    if not user.is_staff:
        followed = select(Follower.case_id).where(Follower.user_id == user.id)
        query = query.where(or_(Case.reporter_id == user.id, Case.id.in_(followed)))
    if status:
        query = query.where(Case.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Case.created_at.desc(), Case.id)
                           .offset((page - 1) * page_size).limit(page_size))
    listed = [CaseAccess(c, "reporter" if c.reporter_id == user.id else ("staff" if user.is_staff else "follower"))
              for c in rows]
    return listed, total


def caller_cases(session: Session, user: User, phone: str, limit: int = 50) -> list[Case]:
    """A hotline caller's earlier cases, for the roles that see phone numbers."""
    if user.role not in config.get().visibility.phone_roles:
        raise ApiError(403, "auth.forbidden")
    try:
        number = phones.normalise(phone)
    except phones.BadPhone:
        raise ApiError(422, "case.bad_phone", field="phone") from None
    # Anonymous reports are left out: listing one under the caller's number would name its reporter.
    return list(session.scalars(select(Case).where(Case.reporter_phone == number, Case.anonymous.is_(False))
                                .order_by(Case.created_at.desc()).limit(limit)))


def check_merger(user: User) -> None:
    if user.role not in config.get().merge_roles:
        raise ApiError(403, "auth.forbidden")


def check_catalogue_editor(user: User) -> None:
    if user.role not in config.get().catalogue_editor_roles:
        raise ApiError(403, "auth.forbidden")
