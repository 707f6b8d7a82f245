"""Rows a transaction writes without a statement of their own: kept in the session and inserted at
COMMIT, one multi-row INSERT per table, in the order they were added.

Why: every `session.execute(insert(...))` of an event (the outbox, the event log, the audit trail)
made the ORM flush first (autoflush), so a consumer's batch flushed once per event and inserted its
cases' rows one case at a time; 21 % of the routing worker's CPU went to those flushes (issue 15).
Deferred, the batch's ORM objects and its events go to the database in a handful of statements.

A SAVEPOINT rolled back drops the rows added since it began (a failing message of a batch handled one
by one takes its events with it); a released one keeps them for the outer COMMIT. Nothing here may be
read back before the COMMIT: a reader in the same transaction would not see it (none does; the relay
reads committed rows only).
"""

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session, SessionTransaction

from shared.db import upsert_insert

_ROWS = "cg_deferred_rows"  # session.info: [(table, row), ...] in the order added
_MARKS = "cg_deferred_marks"  # session.info: {savepoint transaction: how many rows there were when it began}


def insert_later(session: Session, table: Table, rows: list[dict], *, skip_duplicates: bool = False) -> None:
    """Insert `rows` into `table` when the session's transaction commits (never after a rollback).
    `skip_duplicates`: a row whose unique key is taken already is left out (ON CONFLICT DO NOTHING), the first
    of two such rows kept."""
    if not session.in_transaction():
        # Begun now, as a statement would have: a rollback before any statement must drop these rows.
        session.begin()
    session.info.setdefault(_ROWS, []).extend(((table, skip_duplicates), row) for row in rows)


def write(session: Session) -> None:
    """Insert what is waiting now (the COMMIT does; a caller about to read the rows back may too)."""
    rows = session.info.pop(_ROWS, None)
    if not rows:
        return
    by_table: dict[tuple[Table, bool], list[dict]] = {}
    for key, row in rows:  # a table's rows keep their order; tables are independent of each other
        by_table.setdefault(key, []).append(row)
    for (table, skip_duplicates), values in by_table.items():
        # A list of parameters: SQLAlchemy sends it as one multi-row INSERT (insertmanyvalues, in pages
        # under the drivers' limit of parameters) and compiles it once, where .values(list) would be
        # compiled again for every batch.
        stmt = upsert_insert(session)(table).on_conflict_do_nothing() if skip_duplicates else insert(table)
        session.execute(stmt, values)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Fired for a released SAVEPOINT too: only the outermost COMMIT writes.
    if not session.in_nested_transaction():
        write(session)


@event.listens_for(Session, "after_transaction_create")
def _savepoint_begun(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested and session.info.get(_ROWS):
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info[_ROWS])


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:
        rows = session.info.get(_ROWS)
        if rows is not None:
            del rows[session.info.get(_MARKS, {}).get(previous, 0):]
    elif previous.parent is None:
        session.info.pop(_ROWS, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint's mark stays until the outermost transaction ends: after_soft_rollback, which needs
    # it, comes after this event.
    if transaction.parent is None and not transaction.nested:
        # The outermost transaction ended (committed, rolled back or closed): nothing carries over.
        session.info.pop(_ROWS, None)
        session.info.pop(_MARKS, None)
