"""Who may see a dispute's record, the audit log of every read, and masking of contact details.

人民调解法: records are confidential. A dispute is visible only to its parties (by user id), the
mediators assigned to it and the head (supervisor) of its committee. Anyone else gets 404, so
the existence of a dispute is not revealed; the refused attempt is audited too.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import unit_of_work, utcnow
from shared.errors import ApiError

from .models import Assignment, AuditLog, Committee, Dispute, Party

log = logging.getLogger(__name__)


class NotVisible(ApiError):
    def __init__(self, user: User, dispute_id: str | None, action: str):
        super().__init__(404, "dispute.not_found", field="dispute_id")
        self.user, self.dispute_id, self.action = user, dispute_id, action


def capacity(session: Session, dispute: Dispute, user: User) -> str | None:
    """The capacity in which the user may see the dispute, or None."""
    if session.scalar(select(Assignment.id).where(Assignment.dispute_id == dispute.id, Assignment.active.is_(True),
                                                  Assignment.mediator_id == user.id)):
        return "mediator"
    if dispute.committee_id:
        committee = session.get(Committee, dispute.committee_id)
        if committee and committee.supervisor_id == user.id:
            return "supervisor"
    if session.scalar(select(Party.id).where(Party.dispute_id == dispute.id, Party.user_id == user.id)):
        return "party"
    return None


AUDIT_KEY = "mediation.audit"  # session.info: this request's audit rows, rewritten if the request fails


def audit(session: Session, user: User, dispute_id: str | None, action: str, allowed: bool,
          cap: str | None = None) -> None:
    entry = dict(at=utcnow(), user_id=user.id, role=user.role, dispute_id=dispute_id, action=action,
                 allowed=allowed, capacity=cap)
    session.add(AuditLog(**entry))
    session.info.setdefault(AUDIT_KEY, []).append(entry)


def readable(session: Session, dispute_id: str, user: User, action: str) -> tuple[Dispute, str]:
    """The dispute and the reader's capacity; 404 for a stranger. Audits the read either way.

    A write ("write.*") locks the dispute's row, so two parties confirming (or consenting) at the same time
    see each other's answer and the one who completes it signs; PostgreSQL only (SQLite serialises writers).
    """
    dispute = session.get(Dispute, dispute_id, with_for_update=action.startswith("write."))
    cap = capacity(session, dispute, user) if dispute else None
    if cap is None:
        audit(session, user, dispute.id if dispute else None, action, False)
        raise NotVisible(user, dispute.id if dispute else None, action)
    audit(session, user, dispute.id, action, True, cap)
    return dispute, cap


def managing(session: Session, dispute_id: str, user: User, action: str) -> tuple[Dispute, str]:
    """The dispute and the capacity, for an act only its mediators or the committee's head may do."""
    dispute, cap = readable(session, dispute_id, user, action)
    if cap not in ("mediator", "supervisor"):
        raise ApiError(403, "dispute.not_mediator")
    return dispute, cap


@contextmanager
def audited_uow(sessions) -> Iterator[Session]:
    """A unit of work whose audit rows outlive it: a read that passed the check (or was refused) and then
    failed is still a read of the record, so the rows rolled back with the request are written again."""
    entries: list[dict] = []
    try:
        with unit_of_work(sessions) as session:
            session.info[AUDIT_KEY] = entries
            yield session
    except BaseException:
        if entries:
            try:
                with unit_of_work(sessions) as session:
                    session.add_all(AuditLog(**e) for e in entries)
            except Exception:  # the original error is what the caller must see
                log.exception("mediation: could not write the audit rows of a failed request")
        raise


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_address(value: str | None) -> str | None:
    # Enough to recognise the neighbourhood, not the door.
    if not value:
        return value
    return value[:6] + "****"
