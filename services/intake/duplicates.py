"""Finding open cases that may be the same problem.

The lookup is indexed: `ix_cases_dup (category, grid_cell, created_at)` narrows a million
cases to the few of the same category in the cells around the point within the category's
time window; only those few are compared by distance and by text (character bigrams).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, Text, bindparam, or_, select, type_coerce
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.sealed import data_keys_in_use

from . import access, config, geo, textsim
from .catalogue import Category, current
from .models import Case
from .schemas import DuplicateQuery
from .status import OPEN


class Offered(NamedTuple):
    """What an offer shows of a case near the new one."""
    id: str
    case_no: str
    category: str
    status: str
    description: str
    interest_count: int
    created_at: datetime


@dataclass(frozen=True)
class Candidate:
    case: Offered | Case
    distance_m: float
    similarity: float


_cases = Case.__table__
# Only the columns an offer shows, the description as stored (sealed): the same open cases are compared
# with every report near them, and in a surge (a burst main) that is fifty of them per submission. Built
# once: the statement was built and keyed for the cache anew on every submission.
_NEAR = (
    select(_cases.c.id, _cases.c.case_no, _cases.c.category, _cases.c.lat, _cases.c.lon,
           type_coerce(_cases.c.description, Text()).label("sealed"), _cases.c.status, _cases.c.interest_count,
           _cases.c.created_at)
    .where(_cases.c.category == bindparam("category"), _cases.c.grid_cell.in_(bindparam("cells", expanding=True)),
           _cases.c.created_at >= bindparam("since"), _cases.c.status.in_(sorted(OPEN)))
    .order_by(_cases.c.created_at.desc())
    .limit(bindparam("limit", type_=Integer))
)
_RESIDENTS = _NEAR.where(_cases.c.confidential.is_(False))


@lru_cache(maxsize=65536)
def _opened(sealed: str) -> tuple[str, frozenset[str]]:
    """A description as sealed → its text and its bigrams, opened once per process (keyed by the sealed
    value itself, so a resealed or masked description is simply another entry)."""
    text = data_keys_in_use().open(sealed, _cases.c.description.type.context)
    return text, textsim.bigrams(text)


def find(session: Session, category: Category, description: str, lat: float, lon: float, *,
         now: datetime, user: User, exclude_id: str | None = None) -> list[Candidate]:
    """A resident is never offered (nor shown the text of) a case whose reporter asked for
    confidentiality (保密); staff are offered those in their scope (access.py)."""
    rules = config.get().duplicates
    if category.radius_m <= 0 or category.window_days <= 0:
        return []
    cells = geo.cells_around(lat, lon, category.radius_m, rules.cell_degrees)
    since = now - timedelta(days=category.window_days)
    query = _NEAR.where(or_(Case.confidential.is_(False), access.staff_scope(user))) if user.is_staff else _RESIDENTS
    # The connection's Core path: plain rows, no ORM bookkeeping for what is only read and shown.
    rows = session.connection().execute(query, {"category": category.code, "cells": cells, "since": since,
                                                "limit": rules.max_candidates}).all()
    mine = textsim.bigrams(description)
    found = []
    for row in rows:
        if row.id == exclude_id or row.status not in OPEN:
            continue
        d = geo.distance_m(lat, lon, row.lat, row.lon)
        if d > category.radius_m:
            continue
        text, grams = _opened(row.sealed)
        s = textsim.similarity(mine, grams)
        if s >= rules.min_similarity:
            offered = Offered(row.id, row.case_no, row.category, row.status, text, row.interest_count, row.created_at)
            found.append(Candidate(offered, round(d, 1), round(s, 3)))
    found.sort(key=lambda c: (-c.similarity, c.distance_m))
    return found[: rules.max_offers]


def before_submitting(session: Session, query: DuplicateQuery, user: User) -> list[Candidate]:
    """What a resident is offered to join while still writing their case."""
    node = current(session).leaf(query.category)
    if node is None:
        raise ApiError(422, "case.unknown_category", field="category")
    lat, lon = geo.point(query.lat, query.lon, query.coord_system)
    return find(session, node, query.description, lat, lon, now=utcnow(), user=user)
