"""The transactional outbox: events are rows written in the same transaction as the change, all of a
transaction's in one INSERT at its COMMIT (deferred.py)."""

import threading
from collections.abc import Iterable

from sqlalchemy import Table, event
from sqlalchemy.orm import Session, sessionmaker

from shared import tracing
from shared.db import utcnow
from shared.events import Envelope, Payload, envelope_for, topic

from . import deferred

# session.info key: the events to set once this session's transaction commits.
_AFTER_COMMIT = "cg_outbox_signals"


def notify_channel(service: str) -> str:
    return f"cg_outbox_{service}"


def wake_after_commit(session: Session, signal: threading.Event | None) -> None:
    """Set `signal` once the session's transaction commits (never after a rollback).

    The one way to wake a waiting thread (the outbox relay, notify's sender) for rows this
    transaction writes: woken earlier, it would look before the rows are visible.
    Needs `signal_relay_after_commit` on the session's factory (every ServiceRuntime has it).
    """
    if signal is not None:
        session.info.setdefault(_AFTER_COMMIT, set()).add(signal)


def _row(envelope: Envelope) -> dict:
    # The key it is published with (its type's topic words after type.vN: shared/events/registry.py).
    return {"message_id": envelope.id, "routing_key": topic(envelope), "body": envelope.model_dump_json(),
            "created_at": utcnow()}


class Outbox:
    def __init__(self, table: Table, service: str, local_signal: threading.Event | None = None):
        self.table = table
        self.service = service
        # Set after commit. In one process the relay waits on it; across processes a PgNotifier
        # turns it into a PostgreSQL NOTIFY (see wakeup.py for why not inside the transaction).
        self.local_signal = local_signal

    def add(self, session: Session, envelope: Envelope) -> Envelope:
        # Inserted at COMMIT with the transaction's other events (deferred.py: no flush, no round trip now).
        deferred.insert_later(session, self.table, [_row(envelope)])
        tracing.emitted(session, self.table, [envelope])
        wake_after_commit(session, self.local_signal)
        return envelope

    def emit(
        self,
        session: Session,
        payload: Payload,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        return self.add(
            session, envelope_for(payload, correlation_id=correlation_id, causation_id=causation_id)
        )

    def emit_many(self, session: Session, payloads: Iterable[Payload], *, correlation_id: str | None = None,
                  causation_id: str | None = None) -> list[Envelope]:
        """Many events at once (a busy loop emitting hundreds); like `emit`, written at COMMIT."""
        envelopes = [envelope_for(p, correlation_id=correlation_id, causation_id=causation_id) for p in payloads]
        if envelopes:
            deferred.insert_later(session, self.table, [_row(e) for e in envelopes])
            tracing.emitted(session, self.table, envelopes)
            wake_after_commit(session, self.local_signal)
        return envelopes


def signal_relay_after_commit(factory: sessionmaker) -> None:
    """Set the signals registered with `wake_after_commit` once the transaction really commits."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        # SQLAlchemy fires after_commit for a released SAVEPOINT too (the dispatcher gives each
        # message one): only the outermost COMMIT makes the rows visible to the relay.
        if session.in_nested_transaction():
            return
        for signal in session.info.pop(_AFTER_COMMIT, ()):
            signal.set()

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(_AFTER_COMMIT, None)
