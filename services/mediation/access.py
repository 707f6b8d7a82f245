"""Who may see and do what with a dispute's record, and the audit log of every read.

人民调解法: records are confidential. A dispute is visible only to its parties (by user id), the
mediators assigned to it and the head (supervisor) of its committee. Anyone else gets 404, so
the existence of a dispute is not revealed; the refused attempt is audited too.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.runtime import ServiceRuntime
from shared.uow import UnitOfWork

from .disputes import active_mediator_ids, parties
from .models import Assignment, AuditLog, Committee, Dispute, Mediator, Party

log = logging.getLogger(__name__)

STATS_ROLES = ("mediator", "supervisor", "admin")


class Access(NamedTuple):
    """A dispute and the capacity in which the user sees it: party, mediator or supervisor."""

    dispute: Dispute
    capacity: str


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


# ---- the audit log ---------------------------------------------------------------------------

AUDIT_KEY = "mediation.audit"  # session.info: this request's audit rows, rewritten if the request fails


def audit(session: Session, user: User, dispute_id: str | None, action: str, allowed: bool,
          cap: str | None = None) -> None:
    entry = dict(at=utcnow(), user_id=user.id, role=user.role, dispute_id=dispute_id, action=action,
                 allowed=allowed, capacity=cap)
    session.add(AuditLog(**entry))
    session.info.setdefault(AUDIT_KEY, []).append(entry)


@contextmanager
def audited(rt: ServiceRuntime, correlation_id: str | None = None) -> Iterator[UnitOfWork]:
    """A unit of work whose audit rows outlive it: a read that passed the check (or was refused) and then
    failed is still a read of the record, so the rows rolled back with the request are written again."""
    entries: list[dict] = []
    try:
        with rt.unit_of_work(correlation_id) as uow:
            uow.session.info[AUDIT_KEY] = entries
            yield uow
    except BaseException:
        if entries:
            try:
                with rt.uow() as session:
                    session.add_all(AuditLog(**e) for e in entries)
            except Exception as exc:  # the original error is what the caller must see
                # By type only: the text of a database error may quote the row, and the row names a person.
                log.error("mediation: could not write the audit rows of a failed request: %s", type(exc).__name__)
        raise


def audit_log(session: Session, seen: Access, limit: int, offset: int) -> list[AuditLog]:
    """Who read the record: for the committee's head only."""
    if seen.capacity != "supervisor":
        raise ApiError(403, "auth.forbidden")
    return list(session.scalars(select(AuditLog).where(AuditLog.dispute_id == seen.dispute.id)
                                .order_by(AuditLog.id).limit(limit).offset(offset)))


# ---- reading and acting on a dispute ---------------------------------------------------------

def readable(session: Session, dispute_id: str, user: User, action: str) -> Access:
    """The dispute and the reader's capacity; 404 for a stranger. Audits the read either way.

    A write ("write.*") locks the dispute's row, so two parties confirming (or consenting) at the same time
    see each other's answer and the one who completes it signs; PostgreSQL only (SQLite serialises writers).
    """
    dispute = session.get(Dispute, dispute_id, with_for_update=action.startswith("write."))
    cap = capacity(session, dispute, user) if dispute else None
    if cap is None:
        audit(session, user, dispute.id if dispute else None, action, False)
        raise ApiError(404, "dispute.not_found", field="dispute_id")  # the same answer as for no such dispute
    audit(session, user, dispute.id, action, True, cap)
    return Access(dispute, cap)


def managing(session: Session, dispute_id: str, user: User, action: str) -> Access:
    """The dispute and the capacity, for an act only its mediators or the committee's head may do."""
    seen = readable(session, dispute_id, user, action)
    if seen.capacity not in ("mediator", "supervisor"):
        raise ApiError(403, "dispute.not_mediator")
    return seen


def acting_party(session: Session, seen: Access, user: User, party_id: str | None) -> tuple[Party, str]:
    """The party an answer belongs to: the user's own, or — recorded by a mediator for a party without
    an account or in person — the one named. Returns the party and how it was recorded."""
    if seen.capacity in ("mediator", "supervisor") and party_id:
        party = session.get(Party, party_id)
        if party is None or party.dispute_id != seen.dispute.id:
            raise ApiError(404, "party.not_found", field="party_id")
        return party, "in_person"
    own = [p for p in parties(session, seen.dispute.id) if p.user_id == user.id]
    if not own:
        raise ApiError(403, "dispute.not_party")
    if party_id and party_id not in {p.id for p in own}:
        raise ApiError(403, "dispute.not_party", field="party_id")
    return (next(p for p in own if p.id == party_id) if party_id else own[0]), "online"


def created(session: Session, dispute: Dispute, user: User) -> str:
    """The capacity in which the one who opened a dispute sees it, the creation audited: a mediator who
    opened it of their own accord mediates it; anyone else applied as, or for, a party."""
    cap = "mediator" if dispute.source == "committee" else "party"
    audit(session, user, dispute.id, "create", True, cap)
    return cap


def after_assignment(session: Session, dispute: Dispute, user: User) -> str:
    """Who accepted or assigned sees the record as its mediator only if they now hold it; otherwise as the
    committee's head, with contact details masked."""
    holders = active_mediator_ids(session, dispute.id)
    return "mediator" if holders and holders[0] == user.id else "supervisor"


def listed(session: Session, user: User, status: str | None, limit: int, offset: int) -> list[Dispute]:
    """The disputes the user is a party to, mediates or heads the committee of; the listing audited."""
    supervised = select(Committee.id).where(Committee.supervisor_id == user.id)
    assigned = select(Assignment.dispute_id).where(Assignment.mediator_id == user.id, Assignment.active.is_(True))
    party_of = select(Party.dispute_id).where(Party.user_id == user.id)
    query = select(Dispute).where(or_(Dispute.id.in_(assigned), Dispute.id.in_(party_of),
                                      Dispute.committee_id.in_(supervised)))
    if status:
        query = query.where(Dispute.status == status)
    rows = list(session.scalars(query.order_by(Dispute.applied_at.desc()).limit(limit).offset(offset)))
    audit(session, user, None, f"list:{len(rows)}", True)
    return rows


def statistics_scope(session: Session, user: User) -> list[str] | None:
    """The committees whose figures the user may see (None: all); mediation staff only. Audited either way."""
    if user.role not in STATS_ROLES:
        audit(session, user, None, "read.statistics", False)
        raise ApiError(403, "stats.forbidden")
    scope = None
    if user.role == "mediator":  # a mediator sees their own committee's figures
        m = session.get(Mediator, user.id)
        scope = [m.committee_id] if m else []
    audit(session, user, None, "read.statistics", True)
    return scope
