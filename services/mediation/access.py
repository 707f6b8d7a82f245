"""Who may see and do what with a dispute's record, and the audit of every read.

人民调解法: records are confidential. A dispute is visible only to its parties (their own accounts,
linked in a verified way: parties.py), the mediators assigned to it and the head (supervisor) of its
committee. Anyone else gets 404, so the existence of a dispute is not revealed; the refused attempt is
audited too. Answers on a party's behalf (consent, refusal, objection, confirmation, extension) come
from her own account or are recorded in person by a mediator of the dispute.

| who | sees | does |
|---|---|---|
| a party (her linked account) | the record, contact details masked | her own answers; the applicant withdraws |
| the assigned mediator | the record in full | everything a mediator does; answers recorded in person |
| the committee's head | the record, contact details masked; who read it | as the mediator |
| anyone else | 404 | 404 |

Statistics: mediators their committee's, supervisors the committees in their units, admins all.
Every read and refused read is an entry of the service's audit trail (`read.*`, `write.*`), kept
even when the request fails after the check.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared import audit as trail
from shared.audit import Actor
from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.runtime import ServiceRuntime
from shared.uow import UnitOfWork

from .disputes import active_mediator_ids, parties
from .models import Assignment, Committee, Dispute, Mediator, Party
from .models import audit as audit_table
from .parties import link_by_phone

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


# ---- the audit of reads ----------------------------------------------------------------------

READS = "mediation.reads"  # session.info: this request's read entries, written again if the request fails


def audit(uow: UnitOfWork, dispute_id: str | None, action: str, allowed: bool, cap: str | None = None,
          **detail) -> None:
    """A read (or an act) on a record, allowed or not: an entry of the audit trail, which outlives a
    request that fails after the check (see `audited`)."""
    entry = {"action": action, "subject_kind": "dispute" if dispute_id else None, "subject_id": dispute_id,
             "detail": {"allowed": allowed, "capacity": cap, **detail}}
    uow.audit(**entry)
    reads = uow.session.info.get(READS)
    if reads is not None:
        reads.append((uow.actor() if uow.actor else None, utcnow(), entry))


@contextmanager
def audited(rt: ServiceRuntime, correlation_id: str | None = None,
            actor=None) -> Iterator[UnitOfWork]:
    """A unit of work whose read entries outlive it: a read that passed the check (or was refused) and then
    failed is still a read of the record, so the entries rolled back with the request are written again."""
    reads: list[tuple[Actor | None, object, dict]] = []
    try:
        with rt.unit_of_work(correlation_id, actor=actor) as uow:
            uow.session.info[READS] = reads
            yield uow
    except BaseException as exc:
        if reads and getattr(exc, "keep", False) is not True:  # a kept refusal committed them already
            try:
                with rt.uow() as session:
                    for who, at, entry in reads:
                        trail.record(session, audit_table, who, entry["action"], subject_kind=entry["subject_kind"],
                                     subject_id=entry["subject_id"], detail=entry["detail"], at=at)
            except Exception as err:  # the original error is what the caller must see
                log.error("mediation: could not write the audit entries of a failed request: %s", type(err).__name__)
        raise


def audit_entries(session: Session, seen: Access, limit: int, offset: int) -> list:
    """Who read the record and what happened to it (the audit trail's entries for it): the committee's head only."""
    if seen.capacity != "supervisor":
        raise ApiError(403, "auth.forbidden")
    t = audit_table
    return list(session.execute(select(t).where(t.c.subject_kind == "dispute", t.c.subject_id == seen.dispute.id)
                                .order_by(t.c.id).limit(limit).offset(offset)))


# ---- a party's own account -------------------------------------------------------------------

def link_own_parties(uow: UnitOfWork, user: User, dispute_id: str | None = None) -> None:
    """A resident signed in with an SMS-verified phone becomes the party registered with that phone (of the
    dispute she opens, or of every dispute when she lists hers); each link is an entry of the trail."""
    if user.role != "resident" or not user.phone_index:
        return
    for party in link_by_phone(uow.session, user.id, user.phone_index, dispute_id):
        uow.audit("party.linked", subject_kind="dispute", subject_id=party.dispute_id,
                  detail={"party_id": party.id, "method": "phone"})


# ---- reading and acting on a dispute ---------------------------------------------------------

def readable(uow: UnitOfWork, dispute_id: str, user: User, action: str) -> Access:
    """The dispute and the reader's capacity; 404 for a stranger. Audits the read either way.

    A write ("write.*") locks the dispute's row, so two parties confirming (or consenting) at the same time
    see each other's answer and the one who completes it signs; PostgreSQL only (SQLite serialises writers).
    """
    session = uow.session
    dispute = session.get(Dispute, dispute_id, with_for_update=action.startswith("write."))
    if dispute is not None:
        link_own_parties(uow, user, dispute.id)
    cap = capacity(session, dispute, user) if dispute else None
    if cap is None:
        audit(uow, dispute.id if dispute else None, action, False)
        raise ApiError(404, "dispute.not_found", field="dispute_id")  # the same answer as for no such dispute
    audit(uow, dispute.id, action, True, cap)
    return Access(dispute, cap)


def managing(uow: UnitOfWork, dispute_id: str, user: User, action: str) -> Access:
    """The dispute and the capacity, for an act only its mediators or the committee's head may do."""
    seen = readable(uow, dispute_id, user, action)
    if seen.capacity not in ("mediator", "supervisor"):
        raise ApiError(403, "dispute.not_mediator")
    return seen


def acting_party(session: Session, seen: Access, user: User, party_id: str | None) -> tuple[Party, str]:
    """The party an answer belongs to: the user's own (her linked account), or — recorded by a mediator of
    the dispute for a party in front of them — the one named. Returns the party and how it was recorded."""
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


def created(uow: UnitOfWork, dispute: Dispute, user: User) -> str:
    """The capacity in which the one who opened a dispute sees it, the creation audited: a mediator who
    opened it of their own accord mediates it; anyone else applied as, or for, a party."""
    cap = "mediator" if dispute.source == "committee" else "party"
    audit(uow, dispute.id, "create", True, cap)
    return cap


def after_assignment(session: Session, dispute: Dispute, user: User) -> str:
    """Who accepted or assigned sees the record as its mediator only if they now hold it; otherwise as the
    committee's head, with contact details masked."""
    holders = active_mediator_ids(session, dispute.id)
    return "mediator" if holders and holders[0] == user.id else "supervisor"


def listed(uow: UnitOfWork, user: User, status: str | None, limit: int, offset: int) -> list[Dispute]:
    """The disputes the user is a party to, mediates or heads the committee of; the listing audited."""
    link_own_parties(uow, user)
    supervised = select(Committee.id).where(Committee.supervisor_id == user.id)
    assigned = select(Assignment.dispute_id).where(Assignment.mediator_id == user.id, Assignment.active.is_(True))
    party_of = select(Party.dispute_id).where(Party.user_id == user.id)
    query = select(Dispute).where(or_(Dispute.id.in_(assigned), Dispute.id.in_(party_of),
                                      Dispute.committee_id.in_(supervised)))
    if status:
        query = query.where(Dispute.status == status)
    rows = list(uow.session.scalars(query.order_by(Dispute.applied_at.desc()).limit(limit).offset(offset)))
    audit(uow, None, "read.disputes", True, count=len(rows))
    return rows


def _within(code: str | None, unit: str) -> bool:
    """Whether an area code lies in a unit's subtree (codes are hierarchical: trailing zeros are the rest)."""
    prefix = unit
    while prefix.endswith("000"):
        prefix = prefix[:-3]
    return bool(code) and bool(prefix) and code.startswith(prefix)


def statistics_scope(uow: UnitOfWork, user: User) -> list[str] | None:
    """The committees whose figures the user may see (None: all); mediation staff only. Audited either way.
    A mediator sees their own committee's; a supervisor the committees in the subtree of their units."""
    if user.role not in STATS_ROLES:
        audit(uow, None, "read.statistics", False)
        raise ApiError(403, "stats.forbidden")
    scope = None
    if user.role == "mediator":
        m = uow.session.get(Mediator, user.id)
        scope = [m.committee_id] if m else []
    elif user.role == "supervisor":
        units = user.unit_codes or ((user.unit_code,) if user.unit_code else ())
        scope = [c.id for c in uow.session.scalars(select(Committee).order_by(Committee.code))
                 if any(_within(c.community_code, u) or _within(c.street_code, u) for u in units)]
    audit(uow, None, "read.statistics", True)
    return scope
