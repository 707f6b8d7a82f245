"""The parties: who they are, how each was identified, and registering and correcting them.

A party is named by name and phone; her account is linked only in a verified way, so that nobody can
consent, object or confirm for somebody else (issue 11: a resident named her own account as the
respondent and consented for both sides):
- `account`: the resident applying is the applicant, with her own account;
- `intake`: the reporter of the intake case that was referred (intake knows her account);
- `phone`: a signed-in resident whose phone identity verified by SMS (the token's `pix`, a keyed hash)
  equals the party's phone (`phone_index`, the same keyed hash) opens the dispute or lists hers;
- `id_card` / `other_document`: a mediator of the dispute saw the party in person.
An account is a party of a dispute at most once, and two parties of a dispute never share a phone.

The agreement names the parties, so a correction after some party confirmed it is a new text that
every party confirms again; a closed record stays as it was.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db import utcnow
from shared.errors import ApiError
from shared.keys import blind_index
from shared.phones import BadPhone, normalise
from shared.runtime import ServiceRuntime

from . import agreement as agreements
from .disputes import check_distinct_phones, new_party, parties, require_open
from .models import Dispute, Party
from .schemas import PartyIn, VerificationIn

# A phone's keyed hash (None for none, or a number no SMS can verify): what a resident's token carries.
PhoneIndex = Callable[[str | None], str | None]

# The details a correction replaces (the account is linked only by verification, never by a correction).
DETAILS = ("name", "phone", "id_number", "address", "representative_name", "representative_phone")


def phone_index(rt: ServiceRuntime) -> PhoneIndex:
    """The runtime's phone index (its deployment's index key, read once)."""
    found = rt.cache.get("mediation.phone_index")
    if found is None:
        found = rt.cache.setdefault("mediation.phone_index", phone_indexer(rt.settings))
    return found


def phone_indexer(settings: Settings) -> PhoneIndex:
    index = blind_index(settings)

    def of(phone: str | None) -> str | None:
        if not phone:
            return None
        try:
            return index(normalise(phone, mobile=True), "phone")
        except BadPhone:  # a landline: never verified by SMS, so never matched
            return None

    return of


def add(session: Session, dispute: Dispute, body: PartyIn, index: PhoneIndex) -> Party:
    """A party registered before acceptance (a respondent, a further applicant): their consent is still needed."""
    require_open(dispute)
    if dispute.status != "applied":
        raise ApiError(409, "dispute.already_accepted")
    party = new_party(session, dispute, body, utcnow(), None, index)
    session.flush()
    check_distinct_phones(parties(session, dispute.id), field="phone")
    return party


def correct(session: Session, dispute: Dispute, party_id: str, body: PartyIn, index: PhoneIndex) -> Party:
    party = session.get(Party, party_id)
    if party is None or party.dispute_id != dispute.id:
        raise ApiError(404, "party.not_found", field="party_id")
    require_open(dispute)
    agreements.party_details_changed(session, dispute)
    for field in DETAILS:
        setattr(party, field, getattr(body, field))
    party.phone_index = index(party.phone)
    if not party.user_id and not party.phone:
        raise ApiError(422, "party.contact_missing", field="phone")
    session.flush()
    check_distinct_phones(parties(session, dispute.id), field="phone")
    return party


def link(party: Party, user_id: str, method: str, by: str, now: datetime) -> None:
    party.user_id, party.verification_method, party.verified_by, party.verified_at = user_id, method, by, now


def link_by_phone(session: Session, user_id: str, phone_index: str, dispute_id: str | None = None,
                  now: datetime | None = None) -> list[Party]:
    """The parties (of one dispute, or of all) whose phone is the resident's verified phone, linked to her
    account; never a second party of a dispute she is already a party to."""
    now = now or utcnow()
    mine = select(Party.dispute_id).where(Party.user_id == user_id)
    query = (select(Party).where(Party.phone_index == phone_index, Party.user_id.is_(None),
                                 Party.dispute_id.not_in(mine))
             .order_by(Party.dispute_id, Party.role, Party.id).with_for_update())
    if dispute_id is not None:
        query = query.where(Party.dispute_id == dispute_id)
    linked, disputes_done = [], set()
    for party in session.scalars(query):
        if party.dispute_id in disputes_done:  # a shared phone cannot happen; never link twice if it did
            continue
        link(party, user_id, "phone", user_id, now)
        linked.append(party)
        disputes_done.add(party.dispute_id)
    return linked


def verify_in_person(session: Session, dispute: Dispute, party_id: str, body: VerificationIn, by: str) -> Party:
    """A mediator of the dispute saw the party and her document: recorded (who, when, how), and her
    account linked when she showed it."""
    party = session.get(Party, party_id)
    if party is None or party.dispute_id != dispute.id:
        raise ApiError(404, "party.not_found", field="party_id")
    require_open(dispute)
    user_id = body.user_id or party.user_id
    if body.user_id and party.user_id and party.user_id != body.user_id:
        raise ApiError(409, "party.linked_elsewhere", field="user_id")
    if body.user_id and any(p.user_id == body.user_id and p.id != party.id for p in parties(session, dispute.id)):
        raise ApiError(409, "party.already_linked", field="user_id")
    party.user_id = user_id
    party.verification_method, party.verified_by, party.verified_at = body.method, by, utcnow()
    return party
