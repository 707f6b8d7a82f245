"""The life of a dispute: application, consent or refusal, acceptance, assignment (with 回避),
withdrawal and termination. Every change is published through `emit` (the outbox in the caller's
transaction), numbered by the dispute's `seq`.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import geo
from shared.auth import User
from shared.config import local_zone
from shared.db import utcnow
from shared.errors import ApiError
from shared.events import Payload
from shared.events import mediation as ev
from shared.numbering import next_number
from shared.uow import Emit

from . import config
from .directory import find_committee, load_of
from .models import OPEN_STATUSES, Assignment, Committee, Dispute, Mediator, Objection, Party, dispute_counters
from .schemas import DisputeCreate, PartyIn


def publish(emit: Emit, dispute: Dispute, cls: type[Payload], now: datetime | None = None, **fields) -> None:
    """Emits one of the dispute's events with the next number of its `seq` (consumers drop stale ones)."""
    dispute.seq += 1
    emit(cls(dispute_id=dispute.id, dispute_no=dispute.dispute_no, case_id=dispute.case_id, seq=dispute.seq,
             at=now or utcnow(), **fields))


def parties(session: Session, dispute_id: str) -> list[Party]:
    return list(session.scalars(select(Party).where(Party.dispute_id == dispute_id).order_by(Party.role, Party.id)))


def party_user_ids(session: Session, dispute_id: str) -> list[str]:
    return sorted({p.user_id for p in parties(session, dispute_id) if p.user_id})


def active_mediator_ids(session: Session, dispute_id: str) -> list[str]:
    return list(session.scalars(select(Assignment.mediator_id).where(
        Assignment.dispute_id == dispute_id, Assignment.active.is_(True)).order_by(Assignment.id)))


def require_open(dispute: Dispute) -> None:
    if dispute.status not in OPEN_STATUSES:
        raise ApiError(409, "dispute.closed")


def require_accepted(dispute: Dispute) -> None:
    require_open(dispute)
    if dispute.status != "accepted":
        raise ApiError(409, "dispute.not_accepted")


# ---- application ----------------------------------------------------------------------------

def new_dispute_no(session: Session, now: datetime) -> str:
    """TJ-20260302-000123: the day of the application as people there count days, and the running number of
    the month's disputes (a sequence, shared/numbering.py): unique and increasing, where six random hex digits
    were expected to collide at a few thousand disputes a day."""
    local = now.astimezone(local_zone())
    number = next_number(session, "dispute_no", f"{local:%Y-%m}", dispute_counters)
    return f"TJ-{local:%Y%m%d}-{number:06d}"


def new_party(session: Session, dispute: Dispute, p: PartyIn, now: datetime, consent_by: str | None,
              index: Callable[[str | None], str | None], account: tuple[str, str] | None = None) -> Party:
    """A party as named (name and phone); `account`: (user id, how it was verified) when her own account is
    known already (the resident applying, the reporter of a referred case)."""
    if account is None and not p.phone:
        raise ApiError(422, "party.contact_missing", field="parties.phone")
    party = Party(dispute_id=dispute.id, role=p.role, name=p.name, phone=p.phone, phone_index=index(p.phone),
                  id_number=p.id_number, address=p.address, representative_name=p.representative_name,
                  representative_phone=p.representative_phone)
    if account is not None:
        party.user_id, party.verification_method = account
        party.verified_by, party.verified_at = account[0], now
    if consent_by:  # applying for mediation is the applicant's consent
        party.consent, party.consent_at, party.consent_recorded_by = "given", now, consent_by
    session.add(party)
    return party


def create(session: Session, emit: Emit, *, source: str, dispute_type: str, matter: str, party_list: list[PartyIn],
           created_by: str | None, index: Callable[[str | None], str | None],
           applicant_account: tuple[str, str] | None = None, applicant_phone_index: str | None = None,
           case_id: str | None = None, claims: str | None = None, amount=None,
           people_involved: int = 2, lat: float | None = None, lon: float | None = None,
           committee: Committee | None = None, requested_mediator_id: str | None = None, privacy: str = "private",
           assign_to: Mediator | None = None, now: datetime | None = None) -> Dispute:
    """A new dispute, of `committee` (by default the one taking its type at its place: directory.py).

    `applicant_account`: (user id, how verified) of the first applicant when her own account is known (the
    resident applying, the reporter of a referred case); her application is her consent only when she is the
    one who filed it. Anyone else's consent is pending until she answers from her own verified account or a
    mediator records it in person after verifying her (access.acting_party). `assign_to`: the mediator who
    entered it, its mediator from the start."""
    now = now or utcnow()
    if dispute_type not in config.get().dispute_types:
        raise ApiError(422, "dispute.unknown_type", field="dispute_type")
    if committee is None:
        committee = find_committee(session, dispute_type, lat, lon)
    if committee is None:
        raise ApiError(422, "committee.none", field="committee_id")
    if requested_mediator_id:
        chosen = session.get(Mediator, requested_mediator_id)
        if chosen is None or not chosen.active:
            raise ApiError(422, "mediator.not_found", field="requested_mediator_id")
        if chosen.committee_id != committee.id:  # only a mediator of the committee that takes the dispute
            raise ApiError(422, "mediator.other_committee", field="requested_mediator_id")
    dispute = Dispute(dispute_no=new_dispute_no(session, now), case_id=case_id, source=source,
                      dispute_type=dispute_type, status="applied", committee_id=committee.id, matter=matter,
                      claims=claims, amount=amount, people_involved=people_involved, lat=lat, lon=lon, privacy=privacy,
                      requested_mediator_id=requested_mediator_id, created_by=created_by, applied_at=now, seq=0)
    session.add(dispute)
    session.flush()
    first_applicant = next((i for i, p in enumerate(party_list) if p.role == "applicant"), None)
    people = []
    for i, p in enumerate(party_list):
        account = applicant_account if i == first_applicant else None
        # Applying is consenting, but only from the applicant herself: a walk-in entered by a mediator, a
        # committee's own initiative, or staff referring an intake case (转调解) waits for her own yes.
        own = account is not None and account[0] == created_by
        party = new_party(session, dispute, p, now, created_by if own else None, index, account)
        if own and not p.phone and applicant_phone_index:  # her verified phone, known by its keyed hash only
            party.phone_index = applicant_phone_index
        people.append(party)
    session.flush()
    check_distinct_phones(people)
    # The committee's head is told of a new application to review and accept (受理), unless she entered it.
    head = committee.supervisor_id if committee.supervisor_id != created_by else None
    publish(emit, dispute, ev.DisputeApplied, now, dispute_type=dispute_type, source=source,
            committee_id=committee.id, party_user_ids=party_user_ids(session, dispute.id), committee_head_id=head)
    if assign_to is not None:  # 主动调解, or a walk-in: the mediator who entered it mediates it
        session.add(Assignment(dispute_id=dispute.id, mediator_id=assign_to.id, assigned_at=now))
        session.flush()
        publish(emit, dispute, ev.DisputeAssigned, now, mediator_ids=[assign_to.id],
                committee_id=committee.id, party_user_ids=party_user_ids(session, dispute.id))
    return dispute


def check_distinct_phones(people: list[Party], field: str | None = None) -> None:
    """Two parties of one dispute never share a phone: whoever verified it would answer for both."""
    seen: set[str] = set()
    for i, p in enumerate(people):
        key = p.phone_index or p.phone
        if key and key in seen:
            raise ApiError(422, "party.duplicate_phone", field=field or f"parties.{i}.phone")
        if key:
            seen.add(key)


class Filing(NamedTuple):
    """What access.filing decided about a dispute opened through the API: the committee it goes to, the
    applicant's own account when the resident applies for herself (with her verified phone's keyed hash),
    and the mediator who entered it (a walk-in, 主动调解), its mediator from the start."""

    committee: Committee
    applicant_account: tuple[str, str] | None = None
    applicant_phone_index: str | None = None
    assign_to: Mediator | None = None


def located(body: DisputeCreate) -> DisputeCreate:
    """The application with its place in WGS-84, the one system stored and matched against the committees'
    areas: both numbers or neither, with the coordinate system they are in (never guessed: GCJ-02 taken as
    WGS-84 is ~360 m off, often another community and so another committee), inside the service area.
    The rule and the transform are intake's too (shared.geo.point), with mediation's own codes
    (dispute.location_pair, dispute.coord_system_required, dispute.outside_service_area)."""
    wgs = geo.point(body.lat, body.lon, body.coord_system, config.get().procedure.service_area, prefix="dispute")
    if wgs is None:
        return body
    return body.model_copy(update={"lat": wgs[0], "lon": wgs[1], "coord_system": "wgs84"})


def submit(session: Session, emit: Emit, body: DisputeCreate, user: User, index: Callable[[str | None], str | None],
           filing: Filing) -> Dispute:
    """A dispute opened through the API, as `filing` (access.filing) allows it: a resident applying for
    herself, a mediator or the committee's head entering a walk-in application, or a mediator's committee
    opening one of its own accord (主动调解).

    Parties are named by name and phone only: the resident's own account is the applicant's, and the
    others link theirs by their verified phone or before a mediator (parties.py)."""
    party_list = list(body.parties)
    if not any(p.role == "applicant" for p in party_list):
        raise ApiError(422, "validation.missing", field="parties.applicant")
    return create(session, emit, source=body.source, dispute_type=body.dispute_type, matter=body.matter,
                  party_list=party_list, created_by=user.id, index=index,
                  applicant_account=filing.applicant_account, applicant_phone_index=filing.applicant_phone_index,
                  claims=body.claims, amount=body.amount, people_involved=body.people_involved, lat=body.lat,
                  lon=body.lon, committee=filing.committee, requested_mediator_id=body.requested_mediator_id,
                  privacy=body.privacy, assign_to=filing.assign_to)


# ---- consent -------------------------------------------------------------------------------

def record_consent(session: Session, emit: Emit, dispute: Dispute, party: Party, consent: bool, by: str,
                   reason: str | None = None, privacy_request: str | None = None) -> None:
    """Each party's consent; an express refusal ends it: not accepted, with the routes left.

    Mediation is voluntary at every stage (人民调解法 art. 23: a party may refuse mediation or ask to end
    it): a party who consented may still refuse before acceptance, and a refusal after acceptance ends
    the mediation as failed."""
    require_open(dispute)
    if consent:
        if dispute.status != "applied":
            raise ApiError(409, "dispute.already_accepted")
        if party.consent != "pending":
            raise ApiError(409, "party.consent_recorded")
    elif party.consent == "refused":
        raise ApiError(409, "party.consent_recorded")
    now = utcnow()
    party.consent, party.consent_at, party.consent_recorded_by = ("given" if consent else "refused"), now, by
    party.refusal_reason = None if consent else reason
    if privacy_request:
        party.privacy_request = privacy_request
        if privacy_request == "private":
            dispute.privacy = "private"
    if consent:
        return
    dispute.routes = config.get().routes_for(dispute.dispute_type)
    dispute.closed_at = now
    if dispute.status == "accepted":  # 当事人要求终止调解
        dispute.status, dispute.close_reason = "failed", reason or "当事人要求终止调解"
        publish(emit, dispute, ev.DisputeFailed, now, reason="failed", routes=dispute.routes,
                party_user_ids=party_user_ids(session, dispute.id))
        return
    dispute.status, dispute.close_reason = "refused", reason or "当事人明确拒绝调解"
    publish(emit, dispute, ev.DisputeRefused, now, refused_by_party_id=party.id, routes=dispute.routes,
            party_user_ids=party_user_ids(session, dispute.id))


def accept(session: Session, emit: Emit, dispute: Dispute, now: datetime | None = None) -> None:
    """受理: every party has consented; the one-month clock starts; a mediator is assigned."""
    now = now or utcnow()
    require_open(dispute)
    if dispute.status == "accepted":
        raise ApiError(409, "dispute.already_accepted")
    people = parties(session, dispute.id)
    if not any(p.role == "respondent" for p in people):
        raise ApiError(409, "dispute.no_respondent")
    if any(p.consent != "given" for p in people):
        raise ApiError(409, "dispute.consent_missing")
    dispute.status, dispute.accepted_at = "accepted", now
    dispute.deadline = now + timedelta(days=config.get().procedure.term_days)
    publish(emit, dispute, ev.DisputeAccepted, now, committee_id=dispute.committee_id,
            party_user_ids=party_user_ids(session, dispute.id), deadline=dispute.deadline)
    if not active_mediator_ids(session, dispute.id):
        assign(session, emit, dispute, dispute.requested_mediator_id, now=now)


# ---- mediators -----------------------------------------------------------------------------

def _excluded(session: Session, dispute: Dispute) -> set[str]:
    """回避: mediators a party objected to, and mediators who are themselves parties."""
    objected = set(session.scalars(select(Objection.mediator_id).where(Objection.dispute_id == dispute.id)))
    return objected | {p.user_id for p in parties(session, dispute.id) if p.user_id}


def choose_mediator(session: Session, dispute: Dispute) -> Mediator:
    """By type (expertise), area and load within the dispute's committee."""
    excluded = _excluded(session, dispute)
    area = None
    if dispute.committee_id:
        committee = session.get(Committee, dispute.committee_id)
        area = committee.community_code if committee else None
    best, best_key = None, None
    for m in session.scalars(select(Mediator).where(Mediator.committee_id == dispute.committee_id,
                                                    Mediator.active.is_(True)).order_by(Mediator.id)):
        if m.id in excluded:
            continue
        load = load_of(session, m.id)
        if load >= m.max_load:
            continue
        key = (dispute.dispute_type not in (m.expertise or []), area is not None and m.area_code != area,
               load / max(m.max_load, 1), m.id)
        if best_key is None or key < best_key:
            best, best_key = m, key
    if best is None:
        raise ApiError(409, "mediator.none_available")
    return best


def assign(session: Session, emit: Emit, dispute: Dispute, mediator_id: str | None = None,
           now: datetime | None = None) -> Mediator:
    """Assigns a mediator: the parties' choice when given, otherwise by type, area and load."""
    now = now or utcnow()
    require_open(dispute)
    if mediator_id:
        mediator = session.get(Mediator, mediator_id)
        if mediator is None or not mediator.active:
            raise ApiError(422, "mediator.not_found", field="mediator_id")
        if mediator.committee_id != dispute.committee_id:
            raise ApiError(422, "mediator.other_committee", field="mediator_id")
        if mediator.id in _excluded(session, dispute):
            objected = session.scalar(select(Objection.id).where(Objection.dispute_id == dispute.id,
                                                                 Objection.mediator_id == mediator.id))
            raise ApiError(409, "mediator.objected" if objected else "mediator.is_party", field="mediator_id")
        by_choice = True
    else:
        mediator, by_choice = choose_mediator(session, dispute), False
    _end_assignments(session, dispute, now)
    session.add(Assignment(dispute_id=dispute.id, mediator_id=mediator.id, by_choice=by_choice, assigned_at=now))
    session.flush()
    publish(emit, dispute, ev.DisputeAssigned, now, mediator_ids=[mediator.id], committee_id=dispute.committee_id,
            by_choice=by_choice, party_user_ids=party_user_ids(session, dispute.id))
    return mediator


def _end_assignments(session: Session, dispute: Dispute, now: datetime) -> None:
    for a in session.scalars(select(Assignment).where(Assignment.dispute_id == dispute.id,
                                                      Assignment.active.is_(True))):
        a.active, a.ended_at = False, now


def object_to(session: Session, emit: Emit, dispute: Dispute, party: Party, mediator_id: str,
              reason: str | None) -> bool:
    """A party's 回避 request; an objected mediator already assigned is replaced. True if removed.

    The objection always stands: the parties' earlier choice of that mediator is dropped, and if nobody
    can replace them now the dispute waits without a mediator for the committee's head to assign one."""
    require_open(dispute)
    if session.get(Mediator, mediator_id) is None:
        raise ApiError(422, "mediator.not_found", field="mediator_id")
    if session.scalar(select(Objection.id).where(Objection.dispute_id == dispute.id, Objection.party_id == party.id,
                                                 Objection.mediator_id == mediator_id)) is None:
        session.add(Objection(dispute_id=dispute.id, party_id=party.id, mediator_id=mediator_id, reason=reason))
        session.flush()
    if dispute.requested_mediator_id == mediator_id:
        dispute.requested_mediator_id = None
    if mediator_id not in active_mediator_ids(session, dispute.id):
        return False
    _end_assignments(session, dispute, utcnow())
    if dispute.status == "accepted":
        try:  # choose_mediator fails before assign changes anything
            assign(session, emit, dispute)
        except ApiError as exc:
            if exc.code != "mediator.none_available":
                raise
    return True


# ---- endings -------------------------------------------------------------------------------

# Routes recorded before only the three of 第二十六条 were told, as those three name them (信访 is none of them).
_LEGACY_ROUTES = {"诉讼": "司法", "行政处理": "行政"}


def routes_notice(dispute: Dispute) -> str | None:
    """What the parties of a dispute that ended without an agreement are told of their routes: 人民调解法
    第二十六条 (调解不成: 告知当事人可以依法通过仲裁、行政、司法等途径维护自己的权利), or for a dispute never
    mediated or withdrawn 第三条第三项 (mediation never stops a party from those routes)."""
    if dispute.status not in ("failed", "refused", "withdrawn"):
        return None
    named = []
    for route in dispute.routes or []:
        route = _LEGACY_ROUTES.get(route, route)
        if route in config.LAW_ROUTES and route not in named:
            named.append(route)
    if not named:
        return None
    basis = "第二十六条" if dispute.status == "failed" else "第三条第三项"
    return f"当事人可以依法通过{'、'.join(named)}等途径维护自己的权利（《中华人民共和国人民调解法》{basis}）。"


def is_applicant(session: Session, dispute: Dispute, user_id: str | None) -> bool:
    return user_id is not None and any(p.role == "applicant" and p.user_id == user_id
                                       for p in parties(session, dispute.id))


def withdraw(session: Session, emit: Emit, dispute: Dispute, by: str | None, now: datetime | None = None) -> None:
    """撤回 by the applicant (nobody else): the mediation ends; the parties keep every other route."""
    if not is_applicant(session, dispute, by):
        raise ApiError(403, "dispute.not_applicant")
    now = now or utcnow()
    require_open(dispute)
    dispute.status, dispute.closed_at, dispute.close_reason = "withdrawn", now, "申请人撤回调解申请"
    dispute.routes = config.get().routes_for(dispute.dispute_type)
    publish(emit, dispute, ev.DisputeFailed, now, reason="withdrawn", routes=dispute.routes,
            party_user_ids=party_user_ids(session, dispute.id))


def terminate(session: Session, emit: Emit, dispute: Dispute, reason: str, routes: list[str] | None) -> None:
    """调解不成: terminated with the reason, and the parties told which routes are left to them (仲裁、行政、司法:
    人民调解法 第二十六条; the mediator may name fewer of them, never another)."""
    require_open(dispute)
    now = utcnow()
    dispute.status, dispute.closed_at, dispute.close_reason = "failed", now, reason
    dispute.routes = list(routes) if routes else config.get().routes_for(dispute.dispute_type)
    publish(emit, dispute, ev.DisputeFailed, now, reason="failed", routes=dispute.routes,
            party_user_ids=party_user_ids(session, dispute.id))
