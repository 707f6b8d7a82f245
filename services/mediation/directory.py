"""The committees and their mediators: which committee takes a dispute, and how loaded a mediator is."""

import json

from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import config
from .models import OPEN_STATUSES, Assignment, Committee, Dispute, Mediator


def committees(session: Session) -> list[Committee]:
    return list(session.scalars(select(Committee).order_by(Committee.code)))


def mediators(session: Session, committee_id: str | None = None) -> list[Mediator]:
    """The active mediators, of one committee when given."""
    query = select(Mediator).where(Mediator.active.is_(True)).order_by(Mediator.id)
    if committee_id:
        query = query.where(Mediator.committee_id == committee_id)
    return list(session.scalars(query))


def find_committee(session: Session, dispute_type: str, lat: float | None, lon: float | None) -> Committee | None:
    """A specialised committee takes its types (物业, 劳资); otherwise the community committee whose
    area holds the place; failing that the first community committee of the street."""
    known = config.get().dispute_types.get(dispute_type)
    specialty = known.committee_specialty if known else None
    if specialty:
        for committee in session.scalars(select(Committee).where(Committee.kind == "specialised")
                                         .order_by(Committee.code)):
            if committee.specialty == specialty:
                return committee
    community = list(session.scalars(select(Committee).where(Committee.kind == "community").order_by(Committee.code)))
    if lat is not None and lon is not None:
        point = Point(lon, lat)
        for committee in community:
            if committee.area_geojson and shape(json.loads(committee.area_geojson)).covers(point):
                return committee
    return community[0] if community else None


def competent_committees(session: Session, dispute_type: str, lat: float | None,
                         lon: float | None) -> list[Committee]:
    """The committees that take a dispute of this type at this place (人民调解工作若干规定 第二十六条: the
    committee of the place of the dispute; a specialised, 行业性 committee for the types it takes), the one
    `find_committee` routes it to first: that one, every specialised committee taking the type (a 损害赔偿
    dispute goes to the traffic or the medical committee, as the applicant says), and the community
    committee whose area holds the place."""
    first = find_committee(session, dispute_type, lat, lon)
    found = [first] if first is not None else []
    for committee in session.scalars(select(Committee).order_by(Committee.code)):
        takes_type = committee.kind == "specialised" and dispute_type in (committee.types or [])
        holds_place = (committee.kind == "community" and lat is not None and lon is not None
                       and bool(committee.area_geojson)
                       and shape(json.loads(committee.area_geojson)).covers(Point(lon, lat)))
        if committee not in found and (takes_type or holds_place):
            found.append(committee)
    return found


def load_of(session: Session, mediator_id: str) -> int:
    """Open disputes a mediator holds. Assignments stay on closed disputes (the mediator keeps reading
    the record for follow-ups) but no longer count."""
    return session.scalar(select(func.count()).select_from(Assignment)
                          .join(Dispute, Dispute.id == Assignment.dispute_id)
                          .where(Assignment.mediator_id == mediator_id, Assignment.active.is_(True),
                                 Dispute.status.in_(OPEN_STATUSES))) or 0
