"""Human-readable running numbers (a dispute's 编号, a case's number): unique, increasing, never random.

On PostgreSQL a number comes from a sequence per series and period (`<series>_<period>`, made on first
use): a counter row would be locked by every insert until its commit, serialising all of them behind
one row. A rolled-back insert leaves a gap, which is harmless. SQLite has one writer at a time anyway,
so there a counter row (`counter_table`) costs nothing.

Used by intake's case numbers (`next_case_no`: series `case_no`, table `case_counters`) and mediation's
dispute numbers (series `dispute_no`, table `dispute_counters`).
"""

import re

from sqlalchemy import Column, ColumnElement, Integer, MetaData, String, Table, column, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def counter_table(metadata: MetaData, name: str) -> Table:
    """The SQLite side of a series: one row per period holding its last number."""
    return Table(name, metadata,
                 Column("period", String(16), primary_key=True),
                 Column("value", Integer, nullable=False))


def next_number(session: Session, series: str, period: str, counters: Table) -> int:
    """The next number of `series` in `period` (e.g. "2026-11"), in the session's transaction."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        sequence = _sequence(bind, series, period)
        return session.execute(text(f"SELECT nextval('{sequence}')")).scalar_one()
    stmt = sqlite_insert(counters).values(period=period, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["period"], set_={"value": counters.c.value + 1})
    return session.execute(stmt.returning(counters.c.value)).scalar_one()


def number_in_insert(session: Session, series: str, period: str, counters: Table, prefix: str,
                     width: int = 6) -> str | ColumnElement[str]:
    """`prefix` and the next number of the series, zero-padded to `width` digits (never cut), as a value
    to INSERT. On PostgreSQL a SQL expression drawing from the sequence inside the INSERT itself (read it
    back with RETURNING): a hot insert saves the round trip of its own `SELECT nextval`. On SQLite the
    string, from the counter row."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return f"{prefix}{next_number(session, series, period, counters):0{width}d}"
    sequence = _sequence(bind, series, period)
    return text(f"SELECT :prefix || lpad(n::text, greatest({int(width)}, length(n::text)), '0') AS v "
                f"FROM nextval('{sequence}') AS n").bindparams(prefix=prefix) \
        .columns(column("v", String)).scalar_subquery()


_known: set[tuple[str, str]] = set()


def _sequence(engine, series: str, period: str) -> str:
    name = f"{series}_{re.sub(r'[^0-9a-z]', '_', period.lower())}"
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a sequence name: {name!r}")
    key = (str(engine.url), name)
    if key not in _known:
        # Outside the caller's transaction, so two processes creating it at once cannot abort an insert.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            try:
                conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name}"))
            except DBAPIError as exc:
                # Created by another process at the same moment: PostgreSQL answers a unique
                # violation (23505) or "already exists" (42P07) to the one that lost.
                if getattr(exc.orig, "sqlstate", None) not in ("23505", "42P07"):
                    raise
        _known.add(key)
    return name
