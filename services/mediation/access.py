"""Who may see a dispute's record, the audit log of every read, and masking of contact details.

人民调解法: records are confidential. A dispute is visible only to its parties (by user id), the
mediators assigned to it and the head (supervisor) of its committee. Anyone else gets 404, so
the existence of a dispute is not revealed; the refused attempt is audited too.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import unit_of_work
from shared.errors import ApiError

from .models import Assignment, AuditLog, Committee, Dispute, Party


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


def audit(session: Session, user: User, dispute_id: str | None, action: str, allowed: bool,
          cap: str | None = None) -> None:
    session.add(AuditLog(user_id=user.id, role=user.role, dispute_id=dispute_id, action=action, allowed=allowed,
                         capacity=cap))


def readable(session: Session, dispute_id: str, user: User, action: str) -> tuple[Dispute, str]:
    """The dispute and the reader's capacity; 404 for a stranger. Audits the read either way.

    The refused read is audited in its own transaction: the caller's rolls back with the error.
    """
    dispute = session.get(Dispute, dispute_id)
    cap = capacity(session, dispute, user) if dispute else None
    if cap is None:
        raise NotVisible(user, dispute.id if dispute else None, action)
    audit(session, user, dispute.id, action, True, cap)
    return dispute, cap


def managing(session: Session, dispute_id: str, user: User, action: str) -> Dispute:
    """The dispute, for an act only its mediators or the committee's head may do."""
    dispute, cap = readable(session, dispute_id, user, action)
    if cap not in ("mediator", "supervisor"):
        raise ApiError(403, "dispute.not_mediator")
    return dispute


def audit_refusal(sessions, exc: NotVisible) -> None:
    with unit_of_work(sessions) as session:
        audit(session, exc.user, exc.dispute_id, exc.action, False)




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
