"""The transactional outbox: events are rows written in the same transaction as the change."""

import threading

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session, sessionmaker

from shared.db import utcnow
from shared.events import Envelope, Payload, envelope_for


def notify_channel(service: str) -> str:
    return f"cg_outbox_{service}"


class Outbox:
    def __init__(self, table: Table, service: str, local_signal: threading.Event | None = None):
        self.table = table
        self.service = service
        # Set after commit. In one process the relay waits on it; across processes a PgNotifier
        # turns it into a PostgreSQL NOTIFY (see wakeup.py for why not inside the transaction).
        self.local_signal = local_signal

    def add(self, session: Session, envelope: Envelope) -> Envelope:
        session.execute(
            insert(self.table).values(
                message_id=envelope.id,
                routing_key=envelope.routing_key,
                body=envelope.model_dump_json(),
                created_at=utcnow(),
            )
        )
        if self.local_signal is not None:
            session.info.setdefault("cg_outbox_signals", set()).add(self.local_signal)
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


def signal_relay_after_commit(factory: sessionmaker) -> None:
    """Wake the in-process relay once the rows it must publish are committed."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        for signal in session.info.pop("cg_outbox_signals", ()):
            signal.set()

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop("cg_outbox_signals", None)
