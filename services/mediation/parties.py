"""Registering and correcting a dispute's parties. The agreement names them, so a correction after some
party confirmed it is a new text that every party confirms again; a closed record stays as it was."""

from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import ApiError

from . import agreement as agreements
from .disputes import new_party, require_open
from .models import Dispute, Party
from .schemas import PartyIn

# The details a correction replaces (the account is only ever added, never removed).
DETAILS = ("name", "phone", "id_number", "address", "representative_name", "representative_phone")


def add(session: Session, dispute: Dispute, body: PartyIn) -> Party:
    """A party registered before acceptance (a respondent, a further applicant): their consent is still needed."""
    require_open(dispute)
    if dispute.status != "applied":
        raise ApiError(409, "dispute.already_accepted")
    party = new_party(session, dispute, body, utcnow(), None)
    session.flush()
    return party


def correct(session: Session, dispute: Dispute, party_id: str, body: PartyIn) -> Party:
    party = session.get(Party, party_id)
    if party is None or party.dispute_id != dispute.id:
        raise ApiError(404, "party.not_found", field="party_id")
    require_open(dispute)
    agreements.party_details_changed(session, dispute)
    for field in DETAILS:
        setattr(party, field, getattr(body, field))
    if body.user_id:
        party.user_id = body.user_id
    if not party.user_id and not party.phone:
        raise ApiError(422, "party.contact_missing", field="phone")
    return party
