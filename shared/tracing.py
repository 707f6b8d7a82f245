"""Following one resident's request across the services: the ids every log line carries, and the
compact event log each service keeps for the admins' trace.

**Context.** What the process is doing now, in a `ContextVar`: the request id and the correlation
id (the same value: a request's X-Request-ID becomes the correlation id of every event it causes),
the event being handled (id, type, handler), and which service and role (api / worker) are acting.
Set by the request middleware (shared/web.py), around each delivered message (`handling`, called by
shared/messaging/dispatcher.py), and by a background job's unit of work, which starts a correlation
id of its own (shared/runtime.py). shared/logs.py puts these fields on every log line.

**Event log.** Outbox rows are deleted once published and inbox rows say nothing about the chain, so
each service that declares an `event_log` table (`event_log_table`, in its models.py) records one
compact row per event it emits and per event it handles: ids, type, subject, correlation and
causation ids, the handler, the time. Written in the transaction that emits or handles, never one
of its own, and without a statement of its own: the rows wait in the session with the outbox's
(shared/messaging/deferred.py) and a consumer's whole batch goes in one multi-row INSERT at COMMIT;
a rolled-back savepoint drops its rows with its events. Pruned after `Settings.trace_days` by the
worker's audit-sealing loop (`prune_when_due`).

**Reading it** is shared/trace_api.py: `GET /<service>/v1/admin/trace/{correlation_id}`, intake's
trace of a case, and `python -m shared.trace_api <correlation-id>` across processes.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Column, Index, MetaData, String, Table, delete, select
from sqlalchemy.orm import Session

from .db import BigIntId, UTCDateTime, utcnow
from .messaging import deferred

if TYPE_CHECKING:
    from .events import Envelope
    from .runtime import ServiceRuntime

# --------------------------------------------------------------------------- context

FIELDS = ("service", "role", "request_id", "correlation_id", "event_id", "event_type", "handler")
_context: ContextVar[dict[str, str]] = ContextVar("cg_trace_context", default={})  # noqa: B039 — never mutated
# The process's own service and role (services mode: one of each; embedded: none, the context tells).
_process: dict[str, str] = {}


def set_process(**fields: str | None) -> None:
    _process.clear()
    _process.update({k: v for k, v in fields.items() if v})


def fields() -> dict[str, str]:
    """The fields of the current log line: the process's, overridden by the current context's."""
    return {**_process, **_context.get()}


def correlation_id() -> str | None:
    return _context.get().get("correlation_id")


def new_correlation_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def context(**values: str | None) -> Iterator[None]:
    """These fields (the empty ones left out) for the code inside the block, in this thread or task."""
    previous = _context.get()
    token = _context.set({**previous, **{k: v for k, v in values.items() if v}})
    try:
        yield
    finally:
        try:
            _context.reset(token)
        except ValueError:  # left in another context than entered (a generator dependency): restore by value
            _context.set(previous)


# --------------------------------------------------------------------------- event log

EMITTED, HANDLED = "emitted", "handled"
TABLE = "event_log"


def event_log_table(metadata: MetaData) -> Table:
    """One row per event the service emits or handles. One index (the correlation id: what the trace
    asks); pruning walks the primary key from the oldest rows, which are the oldest events."""
    table = Table(
        TABLE, metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("direction", String(8), nullable=False),  # emitted | handled
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(80), nullable=False),
        Column("subject_kind", String(30), nullable=True),
        Column("subject_id", String(64), nullable=True),
        Column("correlation_id", String(64), nullable=True),
        Column("causation_id", String(36), nullable=True),
        Column("handler", String(120), nullable=True),  # handled: "<service>:<routing key>"
        Column("at", UTCDateTime, nullable=False),  # emitted: the event's occurred_at; handled: when
    )
    Index("ix_event_log_correlation_id", table.c.correlation_id)
    return table


def log_of(table: Table) -> Table | None:
    """The event log beside a service's outbox or inbox table, if the service keeps one."""
    return table.metadata.tables.get(TABLE)


def _row(direction: str, env: "Envelope", handler: str | None, at: datetime) -> dict:
    return {"direction": direction, "event_id": env.id, "event_type": env.type, "subject_kind": env.subject.kind,
            "subject_id": env.subject.id[:64], "correlation_id": (env.correlation_id or "")[:64] or None,
            "causation_id": env.causation_id, "handler": handler, "at": at}


def emitted(session: Session, outbox: Table, envelopes: list["Envelope"]) -> None:
    """Record events written to the outbox, in the same transaction (shared/messaging/outbox.py)."""
    table = log_of(outbox)
    if table is not None and envelopes:
        deferred.insert_later(session, table, [_row(EMITTED, e, None, e.occurred_at) for e in envelopes])


@contextmanager
def handling(session: Session, inbox: Table, env: "Envelope", handler: str) -> Iterator[None]:
    """Around the handling of one delivered message (shared/messaging/dispatcher.py): its ids on every
    log line, and its handled row (the time handling began), before the rows of the events it emits.
    The row is part of the handler's work: a handler that raises has its savepoint, or its batch's
    transaction, rolled back, and the row with it."""
    table = log_of(inbox)
    if table is not None:
        deferred.insert_later(session, table, [_row(HANDLED, env, handler, utcnow())])
    with context(service=handler.split(":", 1)[0], role="worker", correlation_id=env.correlation_id,
                 event_id=env.id, event_type=env.type, handler=handler):
        yield


def prune(rt: "ServiceRuntime", days: float, batch: int = 5000) -> int:
    """Delete rows older than `days`, oldest first, in batches; how many were deleted."""
    table = log_of(rt.outbox.table)
    if table is None:
        return 0
    cutoff, total = utcnow() - timedelta(days=days), 0
    while True:
        with rt.uow() as session:
            oldest = select(table.c.id).order_by(table.c.id).limit(batch).scalar_subquery()
            done = session.execute(delete(table).where(table.c.id.in_(oldest), table.c.at < cutoff)).rowcount
        total += done
        if done < batch:
            return total


PRUNE_EVERY_SECONDS = 3600.0


def prune_when_due(rt: "ServiceRuntime") -> int:
    """Prune at most once an hour per runtime; called by a loop that runs much more often."""
    now = time.monotonic()
    last = rt.cache.get("trace_pruned_at")
    if last is not None and now - last < PRUNE_EVERY_SECONDS:
        return 0
    rt.cache["trace_pruned_at"] = now
    return prune(rt, rt.settings.trace_days)
