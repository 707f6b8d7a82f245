"""Finding open cases that may be the same problem.

The lookup is indexed: `ix_cases_dup (category, grid_cell, created_at)` narrows a million
cases to the few of the same category in the cells around the point within the category's
time window; only those few are compared by distance and by text (character bigrams).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError

from . import access, config, geo, textsim
from .catalogue import Category, current
from .models import Case
from .schemas import DuplicateQuery
from .status import OPEN


@dataclass(frozen=True)
class Candidate:
    case: Case  # or a row with the columns find() selects
    distance_m: float
    similarity: float


def find(session: Session, category: Category, description: str, lat: float, lon: float, *,
         now: datetime, user: User, exclude_id: str | None = None) -> list[Candidate]:
    """A resident is never offered (nor shown the text of) a case whose reporter asked for
    confidentiality (保密); staff are offered those in their scope (access.py)."""
    rules = config.get().duplicates
    if category.radius_m <= 0 or category.window_days <= 0:
        return []
    cells = geo.cells_around(lat, lon, category.radius_m, rules.cell_degrees)
    since = now - timedelta(days=category.window_days)
    # Only the columns an offer shows: the full rows of a busy corner's cases are not needed.
    query = (
        select(Case.id, Case.case_no, Case.category, Case.lat, Case.lon, Case.description, Case.status,
               Case.interest_count, Case.created_at)
        .where(Case.category == category.code, Case.grid_cell.in_(cells), Case.created_at >= since,
               Case.status.in_(OPEN))
    )
    confidential = access.staff_scope(user) if user.is_staff else false()
    query = query.where(or_(Case.confidential.is_(False), confidential))
    rows = session.execute(query.order_by(Case.created_at.desc()).limit(rules.max_candidates)).all()
    mine = textsim.bigrams(description)
    found = []
    for row in rows:
        if row.id == exclude_id or row.status not in OPEN:
            continue
        d = geo.distance_m(lat, lon, row.lat, row.lon)
        if d > category.radius_m:
            continue
        s = textsim.similarity(mine, row.description)
        if s >= rules.min_similarity:
            found.append(Candidate(row, round(d, 1), round(s, 3)))
    found.sort(key=lambda c: (-c.similarity, c.distance_m))
    return found[: rules.max_offers]


def before_submitting(session: Session, query: DuplicateQuery, user: User) -> list[Candidate]:
    """What a resident is offered to join while still writing their case."""
    node = current(session).leaf(query.category)
    if node is None:
        raise ApiError(422, "case.unknown_category", field="category")
    lat, lon = geo.point(query.lat, query.lon, query.coord_system)
    return find(session, node, query.description, lat, lon, now=utcnow(), user=user)
