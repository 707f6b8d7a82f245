"""Idempotent consumption: one inbox row per (message, handler) in the handler's transaction.

Transport-neutral: the AMQP consumer and the in-process bus both hand message bodies here
and act on the outcome (ack, retry later, dead-letter).
"""

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from shared import metrics
from shared.audit import Actor
from shared.db import unit_of_work, upsert_insert, utcnow
from shared.events import Envelope, InvalidEvent, Payload, UnknownEvent, decode
from shared.uow import UnitOfWork

from .outbox import Outbox

log = logging.getLogger(__name__)


DUPLICATE = "duplicate delivery"


class Outcome(enum.Enum):
    ACK = "ack"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str = ""
    handler: str = ""  # the event's routing key when it could be decoded (the metrics' handler label)


class HandlerContext(UnitOfWork):
    """The unit of work of one delivered message: events emitted here carry its correlation id
    and name it as their cause."""

    def __init__(self, session: Session, envelope: Envelope, outbox: Outbox, audit_table: Table | None = None):
        actor = Actor(id="system", request_id=envelope.correlation_id)
        super().__init__(session, outbox, correlation_id=envelope.correlation_id, causation_id=envelope.id,
                         audit_table=audit_table, actor=lambda: actor)
        self.envelope = envelope


Handler = Callable[[HandlerContext, Payload], None]


class Dispatcher:
    def __init__(
        self,
        service: str,
        factory: sessionmaker,
        inbox: Table,
        outbox: Outbox,
        handlers: dict[str, Handler],
        audit_table: Table | None = None,
    ):
        """`handlers` maps a routing key (type.vN) to the one handler of this service for it."""
        self.service = service
        self.factory = factory
        self.inbox = inbox
        self.outbox = outbox
        self.handlers = handlers
        self.audit_table = audit_table

    def handle(self, body: bytes) -> Result:
        return self.handle_batch([body])[0]

    def handle_batch(self, bodies: list[bytes]) -> list[Result]:
        """Handle several messages in one transaction, each in its own savepoint."""
        results: list[Result | None] = [None] * len(bodies)
        todo = []
        for i, body in enumerate(bodies):
            try:
                env, payload = decode(body)
            except (UnknownEvent, InvalidEvent) as exc:
                results[i] = Result(Outcome.DEAD, str(exc))
                continue
            except Exception as exc:  # whatever decoding raises, the message is dead, never the consumer
                log.warning("%s: undecodable message: %s", self.service, type(exc).__name__)
                results[i] = Result(Outcome.DEAD, f"undecodable: {type(exc).__name__}")
                continue
            handler = self.handlers.get(env.routing_key)
            if handler is None:
                results[i] = Result(Outcome.ACK, "not handled by this service", env.routing_key)
            else:
                todo.append((i, env, payload, handler))
        if todo:
            try:
                with unit_of_work(self.factory) as session:
                    for i, env, payload, handler in todo:
                        results[i] = self._handle_one(session, env, payload, handler)
            except Exception as exc:  # the commit itself failed: nothing of the batch happened
                log.warning("%s: batch commit failed: %s", self.service, type(exc).__name__)
                for i, env, *_ in todo:
                    if results[i] is None or results[i].outcome is Outcome.ACK:
                        results[i] = Result(Outcome.RETRY, f"commit failed: {exc!r}"[:500], env.routing_key)
        final = [r if r is not None else Result(Outcome.RETRY, "not handled") for r in results]
        for r in final:  # once the transaction committed; retries and dead letters are the transport's to count
            if r.outcome is Outcome.ACK and r.reason == "":
                metrics.event_outcome(self.service, r.handler, "handled")
            elif r.outcome is Outcome.ACK and r.reason == DUPLICATE:
                metrics.inbox_duplicate(self.service, r.handler)
        return final

    def _handle_one(self, session: Session, env: Envelope, payload: Payload, handler: Handler) -> Result:
        # One handler per (service, event): naming it by both keeps the inbox key stable across refactors.
        name = f"{self.service}:{env.routing_key}"
        savepoint = session.begin_nested()
        try:
            if not self._claim(session, env.id, name):
                savepoint.commit()
                return Result(Outcome.ACK, DUPLICATE, env.routing_key)
            handler(HandlerContext(session, env, self.outbox, self.audit_table), payload)
            session.flush()
            savepoint.commit()
            return Result(Outcome.ACK, handler=env.routing_key)
        except Exception as exc:
            savepoint.rollback()
            # The exception text may quote personal data: the log gets its type only.
            log.warning("%s failed on message %s: %s", name, env.id, type(exc).__name__)
            return Result(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:500], env.routing_key)

    def _claim(self, session: Session, message_id: str, handler: str) -> bool:
        insert = upsert_insert(session)
        stmt = (
            insert(self.inbox)
            .values(message_id=message_id, handler=handler, processed_at=utcnow())
            .on_conflict_do_nothing()
            .returning(self.inbox.c.message_id)
        )
        # RETURNING rather than rowcount: drivers disagree on rowcount for ON CONFLICT DO NOTHING.
        return session.execute(stmt).first() is not None
