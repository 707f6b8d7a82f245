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
| the committee's head | the record, contact details masked; who read it | as the mediator (signing excepted) |
| anyone else | 404 | 404 |

The agreement (人民调解法 第二十九条): each party signs it (her confirmation: her own account, or on paper before
the mediator); then a mediator of the dispute signs it (the committee's head only if she is its mediator: 403
`agreement.not_the_mediator`); then the committee's seal is recorded by its head or by a mediator of that
committee (another committee's: 403 `agreement.not_committee`). Parties: 403 for both acts.

Who may open a dispute, and for which committee (`filing`):
- a resident: her own application only. The one applicant is herself: no phone, or the phone she verified
  by SMS (another's → 422 `party.not_own_phone`; an account without a verified phone → 422
  `party.phone_unverified`); verified by `account`, her application her consent. It goes to a committee
  that takes the dispute: the community committee of its place, or a specialised one for its type (any
  other → 422 `committee.not_competent`).
- a mediator: a walk-in application (the applicant in front of her), or 主动调解, for her own committee
  (another → 422 `committee.not_yours`); she is assigned to it. The applicant's consent stays pending until
  she is verified, in person by a mediator (recorded) or by signing in with the phone verified by SMS.
- a committee's head: a walk-in application, for a committee she heads.
- other staff (operator, grid worker, community, street, department, a supervisor heading no committee,
  admin): 403 `dispute.not_committee_staff`; a caller's or a case's dispute reaches mediation by intake's
  转调解 (handlers.py), the reporter as applicant.

Why: 人民调解法 第十七条 (the parties apply, or the committee acts of its own accord) and the local rules
after 人民调解工作若干规定 第二十六条 (the committee of the parties' home or of the place of the dispute takes
it; 行业性 committees their trade); seed 000 "把矛盾控制在辖区范围内". Online, only the place is known (a
resident's token carries no home), so a resident applies to the place's committee or a specialised one;
her home committee takes her application in person. Answers recorded in person need the party verified
in person first (`acting_party`: 核对当事人身份), so nobody's consent is given by whoever typed her name.

Statistics: mediators their committee's, supervisors the committees in their units, admins all.
Every read and refused read is an entry of the service's audit trail (`read.*`, `write.*`), kept
even when the request fails after the check (other refusals are recorded by shared/audit_api.py). The
whole trail (GET /mediation/v1/audit): admins, and a committee's head the entries about her
committee's disputes (`audit_scope`); 403 for anyone else.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, or_, select, true
from sqlalchemy.orm import Session

from shared import audit as trail
from shared.audit import Actor
from shared.audit_api import about
from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.messaging import deferred
from shared.runtime import ServiceRuntime
from shared.uow import UnitOfWork

from . import config
from .directory import competent_committees
from .disputes import Filing, active_mediator_ids, parties
from .models import Assignment, Committee, Dispute, Mediator, Party
from .models import audit as audit_table
from .parties import PhoneIndex, link_by_phone
from .schemas import DisputeCreate

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
    deferred.write(session)  # this request's own entries (uow.audit) are part of the trail it reads
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
        # The same answer as for no such dispute; the refusal recorded above, not again (shared/audit_api.py).
        raise trail.recorded(ApiError(404, "dispute.not_found", field="dispute_id"))
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
        if party.verification_method is None:  # 核对当事人身份 first: recorded (who, when, how), then her answer
            raise ApiError(409, "party.not_verified", field="party_id")
        return party, "in_person"
    own = [p for p in parties(session, seen.dispute.id) if p.user_id == user.id]
    if not own:
        raise ApiError(403, "dispute.not_party")
    if party_id and party_id not in {p.id for p in own}:
        raise ApiError(403, "dispute.not_party", field="party_id")
    return (next(p for p in own if p.id == party_id) if party_id else own[0]), "online"


# ---- opening a dispute -------------------------------------------------------------------------

def _active_mediator(session: Session, user: User) -> Mediator | None:
    m = session.get(Mediator, user.id)
    return m if m is not None and m.active else None


def _one_of(session: Session, committee_id: str | None, allowed: list[Committee], code: str,
            default: Committee | None) -> Committee:
    """The committee named (one of `allowed`, else 422 `code`), or `default` when none is named."""
    if committee_id is None:
        if default is None:
            raise ApiError(422, code, field="committee_id")
        return default
    if session.get(Committee, committee_id) is None:
        raise ApiError(422, "committee.not_found", field="committee_id")
    chosen = next((c for c in allowed if c.id == committee_id), None)
    if chosen is None:
        raise ApiError(422, code, field="committee_id")
    return chosen


def filing(session: Session, user: User, body: DisputeCreate, index: PhoneIndex) -> Filing:
    """Who may open this dispute, for which committee, and whom it is verified as (the module docstring)."""
    if body.dispute_type not in config.get().dispute_types:  # the committee taking it depends on it
        raise ApiError(422, "dispute.unknown_type", field="dispute_type")
    if body.source == "committee":  # 主动调解: a mediator, for her own committee
        mediator = _active_mediator(session, user)
        if mediator is None:
            raise ApiError(403, "dispute.forbidden_source", field="source")
        own = session.get(Committee, mediator.committee_id)
        return Filing(_one_of(session, body.committee_id, [own], "committee.not_yours", own), assign_to=mediator)
    if not user.is_staff:
        return _own_application(session, user, body, index)
    # A walk-in application: entered by a mediator or the head of the committee it goes to.
    mediator = _active_mediator(session, user)
    own = list(session.scalars(select(Committee).where(Committee.supervisor_id == user.id).order_by(Committee.code)))
    if mediator is not None and mediator.committee_id not in {c.id for c in own}:
        own.insert(0, session.get(Committee, mediator.committee_id))
    if not own:
        raise ApiError(403, "dispute.not_committee_staff")
    competent = competent_committees(session, body.dispute_type, body.lat, body.lon)
    default = next((c for c in competent if c in own), None) or (
        session.get(Committee, mediator.committee_id) if mediator is not None else None)
    committee = _one_of(session, body.committee_id, own, "committee.not_yours", default)
    return Filing(committee, assign_to=mediator if mediator and mediator.committee_id == committee.id else None)


def _own_application(session: Session, user: User, body: DisputeCreate, index: PhoneIndex) -> Filing:
    """A resident applies for herself: the one applicant is her, identified by the phone she verified by SMS
    (the token's keyed hash), never anyone else's; another's application is taken in person. Her committee is
    one that takes the dispute at its place (directory.competent_committees)."""
    applicants = [i for i, p in enumerate(body.parties) if p.role == "applicant"]
    if len(applicants) != 1:
        raise ApiError(422, "validation.missing", field="parties.applicant")
    at = applicants[0]
    mine = body.parties[at]
    if not user.phone_index:  # an account nobody verified by SMS: who she is stays unknown online
        raise ApiError(422, "party.phone_unverified", field=f"parties.{at}.phone")
    if mine.phone and index(mine.phone) != user.phone_index:
        raise ApiError(422, "party.not_own_phone", field=f"parties.{at}.phone")
    for i, p in enumerate(body.parties):  # nor herself as the other side
        if i != at and index(p.phone) == user.phone_index:
            raise ApiError(422, "party.own_phone", field=f"parties.{i}.phone")
    competent = competent_committees(session, body.dispute_type, body.lat, body.lon)
    if not competent:
        raise ApiError(422, "committee.none", field="committee_id")
    committee = _one_of(session, body.committee_id, competent, "committee.not_competent", competent[0])
    return Filing(committee, applicant_account=(user.id, "account"), applicant_phone_index=user.phone_index)


def created(uow: UnitOfWork, dispute: Dispute, user: User) -> str:
    """The capacity in which the one who opened a dispute sees it, the creation audited: the mediator who
    entered it mediates it, a committee's head heads it, a resident is its applicant."""
    cap = capacity(uow.session, dispute, user) or "party"
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
        raise trail.recorded(ApiError(403, "stats.forbidden"))
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


def audit_scope(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """The entries of mediation's audit trail a reader sees (GET /mediation/v1/audit): admins all; the
    head of a committee those about her committee's disputes (as her record's own audit shows her);
    anyone else 403, supervisors included: who is a party to which dispute is the record's."""
    if user.role == "admin":
        return true()
    headed = select(Committee.id).where(Committee.supervisor_id == user.id)
    if session.scalar(headed.limit(1)) is None:
        raise ApiError(403, "auth.forbidden")
    return about(table, "dispute", select(Dispute.id).where(Dispute.committee_id.in_(headed)))
