"""Finding open cases that may be the same problem.

The lookup is indexed: `ix_cases_dup (category, grid_cell, created_at)` narrows a million
cases to the few of the same category in the cells around the point within the category's
time window; only those few are compared by distance and by text (character bigrams).
"""

import heapq
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
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
# Above this many cells around a point (a category's radius of kilometres), one lookup over all of them.
MAX_RANGES = 16


def _near(cells: int, shown: ColumnElement[bool]) -> Select:
    """The newest open cases of the category in each of `cells` cells (bound cell0, cell1 …) that `shown` lets
    the reader be offered, each cell's at most `limit`: one backward range of ix_cases_dup per cell. With
    `grid_cell IN (…)` PostgreSQL read every case of the cells in the window and sorted them for the newest
    fifty, so in a surge at one place (a burst main: thousands of open reports in one cell) every submission
    cost more than the one before. Only the columns an offer shows; the description as stored (sealed)."""
    if cells > MAX_RANGES:  # a category searched kilometres around: one lookup over its many cells
        return _ranges(1, shown, _cases.c.grid_cell.in_(bindparam("cells", expanding=True)))
    return _ranges(cells, shown)


# The open statuses written into the statement: as a bound list (`IN (__[POSTCOMPILE_…]`) every execution
# rendered it again, once per cell. Status codes are the code's own words; anything else is not written as SQL.
if not all(re.fullmatch("[a-z_]+", s) for s in OPEN):
    raise RuntimeError("an open status that is not a plain word cannot be written into a statement")
_IS_OPEN = _cases.c.status.in_([literal_column(f"'{s}'") for s in sorted(OPEN)])


def _ranges(cells: int, shown: ColumnElement[bool], where_cell: ColumnElement[bool] | None = None) -> Select:
    parts = []
    for i in range(cells):
        part = (select(_cases.c.id, _cases.c.case_no, _cases.c.category, _cases.c.lat, _cases.c.lon,
                       type_coerce(_cases.c.description, Text()).label("sealed"), _cases.c.status,
                       _cases.c.interest_count, _cases.c.created_at)
                .where(_cases.c.category == bindparam("category"),
                       _cases.c.grid_cell == bindparam(f"cell{i}") if where_cell is None else where_cell,
                       _cases.c.created_at >= bindparam("since"), _IS_OPEN, shown)
                .order_by(_cases.c.created_at.desc())
                .limit(bindparam("limit", type_=Integer)))
        parts.append(select(part.subquery(f"cell{i}")))
    if cells == 1:
        return parts[0]
    # The newest `limit` of all the cells, merged by the database (each cell's range is already in order):
    # only those rows travel, not `limit` from every cell.
    near = union_all(*parts).subquery("near")
    return select(near).order_by(near.c.created_at.desc(), near.c.id).limit(bindparam("limit", type_=Integer))


@lru_cache(maxsize=16)
def _near_for_residents(cells: int) -> Select:
    # Built once per number of cells: a resident is offered no confidential case, whoever she is.
    return _near(cells, _cases.c.confidential.is_(False))


@lru_cache(maxsize=4096)
def _opened(sealed: str) -> tuple[str, frozenset[str]]:
    """A description as sealed → its text and its bigrams, opened once per process (keyed by the sealed
    value itself, so a resealed or masked description is simply another entry). Bounded to the open cases
    recent submissions were compared with (4,096: a few MB of typical descriptions), so what leaves the
    working set — a case closed, masked by retention — leaves memory as new cases come."""
    text = data_keys_in_use().open(sealed, _cases.c.description.type.context)
    return text, textsim.bigrams(text)


def find(session: Session, category: Category, description: str, lat: float, lon: float, *,
         now: datetime, user: User) -> list[Candidate]:
    """A resident is never offered (nor shown the text of) a case whose reporter asked for
    confidentiality (保密); staff are offered those in their scope (access.py)."""
    rules = config.get().duplicates
    if category.radius_m <= 0 or category.window_days <= 0:
        return []
    cells = geo.cells_around(lat, lon, category.radius_m, rules.cell_degrees)
    since = now - timedelta(days=category.window_days)
    params = {"category": category.code, "since": since, "limit": rules.max_candidates, "cells": cells,
              **{f"cell{i}": cell for i, cell in enumerate(cells)}}
    if user.is_staff:  # the confidential cases of her own scope too: a condition of hers, built per request
        query = _near(len(cells), or_(Case.confidential.is_(False), access.staff_scope(user)))
    else:
        query = _near_for_residents(len(cells))
    # The connection's Core path: plain rows, no ORM bookkeeping for what is only read and shown.
    rows = session.connection().execute(query, params).all()
    mine = textsim.bigrams(description)
    close = []  # (similarity, distance, the offer's fields) of each case close enough in place and words
    # Unpacked in the select's column order: a row's attributes by name cost more than comparing them.
    for case_id, case_no, code, row_lat, row_lon, sealed, status, interest, created in rows:
        d = geo.distance_m(lat, lon, row_lat, row_lon)
        if d > category.radius_m:
            continue
        text, grams = _opened(sealed)
        s = textsim.similarity(mine, grams)
        if s >= rules.min_similarity:
            close.append((round(s, 3), round(d, 1), (case_id, case_no, code, status, text, interest, created)))
    # Only the few offered become offers: in a surge at one place every candidate is close.
    best = heapq.nsmallest(rules.max_offers, close, key=lambda c: (-c[0], c[1]))
    return [Candidate(Offered(*fields), d, s) for s, d, fields in best]


def before_submitting(session: Session, query: DuplicateQuery, user: User) -> list[Candidate]:
    """What a resident is offered to join while still writing their case."""
    node = current(session).leaf(query.category)
    if node is None:
        raise ApiError(422, "case.unknown_category", field="category")
    lat, lon = geo.point(query.lat, query.lon, query.coord_system)
    return find(session, node, query.description, lat, lon, now=utcnow(), user=user)
