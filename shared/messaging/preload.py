"""Rows a consumer's batch reads at once, before its messages are handled one after another.

Why: a handler that asks for its case (`session.get(Case, id, with_for_update=True)`) sends a SELECT
per message, and each SELECT makes the session flush the previous message's changes first, so a batch
of twenty went to the database some eighty times (issue 15). The service's `preload` (ServiceSpec)
reads the batch's rows in one statement per table, locked in key order when the handler would lock
them; its handlers ask `get` and are answered from what was read, and what they add is `put` here, so
the next message of the batch finds it. A row nobody preloaded is read as before.

Kept in `session.info`: the dispatcher's session lives for one batch; when the batch fails and is
handled one by one, nothing is preloaded and every `get` reads.
"""

from collections.abc import Iterable

from sqlalchemy import inspect, select, tuple_
from sqlalchemy.orm import Session

_ROWS = "cg_preloaded"  # session.info: {(model, primary key): the row, or None where there is none}


def load(session: Session, model, keys: Iterable, *, lock: bool = False) -> None:
    """Read the rows of `model` with these primary keys (a value, or a tuple for a composite key) in one
    statement, FOR UPDATE in key order when `lock` (two batches locking the same rows queue, never deadlock)."""
    wanted = sorted({k for k in keys if k is not None and (not isinstance(k, tuple) or None not in k)})
    if not wanted:
        return
    columns = inspect(model).primary_key
    composite = len(columns) > 1
    where = tuple_(*columns).in_(wanted) if composite else columns[0].in_(wanted)
    query = select(model).where(where).order_by(*columns)
    if lock:
        query = query.with_for_update()
    cache = session.info.setdefault(_ROWS, {})
    found = {}
    for row in session.scalars(query):
        identity = inspect(row).identity
        found[identity if composite else identity[0]] = row
    for key in wanted:
        cache[(model, key)] = found.get(key)


def get(session: Session, model, key, *, lock: bool = False):
    """`session.get(model, key)` (FOR UPDATE when `lock`), answered from the batch's preload when it read
    this key."""
    cache = session.info.get(_ROWS)
    if cache is not None and (model, key) in cache:
        return cache[(model, key)]
    return session.get(model, key, with_for_update=True if lock else None)


def known(session: Session, model, key) -> bool:
    """Whether the batch's preload read this key (found or not)."""
    cache = session.info.get(_ROWS)
    return cache is not None and (model, key) in cache


def put(session: Session, model, key, row) -> None:
    """A row the handler has just added: the batch's next messages find it with `get`."""
    cache = session.info.get(_ROWS)
    if cache is not None:
        cache[(model, key)] = row
