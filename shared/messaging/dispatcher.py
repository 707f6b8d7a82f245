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

from shared import metrics, tracing
from shared.audit import Actor
from shared.db import DatabaseUnavailable, database_unavailable, unit_of_work, upsert_insert, utcnow
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


NOT_CONCERNED = "not this service's concern"


def only(wants: Callable[[Payload], bool], handler: Handler) -> Handler:
    """`handler` for the events of its type that `wants` picks by their payload alone; the others are
    acknowledged without a transaction (no inbox row: handling them would change nothing, so a redelivery
    cannot do anything twice). The grid and selfgov services hear every submitted case for the few that are
    theirs: a transaction each was 1 ms of CPU per case in each (issue 15)."""
    handler.wants = wants  # type: ignore[attr-defined]
    return handler
# Before a batch's messages are handled together: read the rows they will ask for (shared/messaging/preload.py).
Preload = Callable[[Session, list[Payload]], None]


def _everything(payload: Payload) -> bool:
    return True


class Dispatcher:
    def __init__(
        self,
        service: str,
        factory: sessionmaker,
        inbox: Table,
        outbox: Outbox,
        handlers: dict[str, Handler],
        audit_table: Table | None = None,
        preload: Preload | None = None,
    ):
        """`handlers` maps a routing key (type.vN) to the one handler of this service for it."""
        self.service = service
        self.factory = factory
        self.inbox = inbox
        self.outbox = outbox
        self.handlers = handlers
        self.audit_table = audit_table
        self.preload = preload

    def handle(self, body: bytes) -> Result:
        return self.handle_batch([body])[0]

    def handle_batch(self, bodies: list[bytes]) -> list[Result]:
        """Handle several messages in one transaction: together (one inbox INSERT, no savepoint, the
        events in one INSERT at COMMIT), or, when that fails, one by one, each in its own savepoint,
        so only a failing message is retried."""
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
            elif not getattr(handler, "wants", _everything)(payload):
                results[i] = Result(Outcome.ACK, NOT_CONCERNED, env.routing_key)
            else:
                todo.append((i, env, payload, handler))
        if todo:
            try:
                with unit_of_work(self.factory) as session:
                    self._handle_together(session, todo, results)
            except Exception as exc:  # nothing of the batch happened
                if database_unavailable(exc):
                    # Not a retry (that would count towards the DLQ while PostgreSQL restarts): the
                    # transport holds the batch, unacked, and hands it over again once the database answers.
                    raise DatabaseUnavailable(f"{self.service}: {type(exc).__name__}") from exc
                if len(todo) == 1:  # one by one would only do the same again
                    i, env, *_ = todo[0]
                    log.warning("%s failed on message %s: %s", f"{self.service}:{env.routing_key}", env.id,
                                type(exc).__name__)  # the type only: the text may quote personal data
                    results[i] = Result(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:500], env.routing_key)
                else:
                    log.info("%s: batch of %d failed (%s), handling it one by one", self.service, len(todo),
                             type(exc).__name__)
                    self._handle_one_by_one(todo, results)
        final = [r if r is not None else Result(Outcome.RETRY, "not handled") for r in results]
        for r in final:  # once the transaction committed; retries and dead letters are the transport's to count
            if r.outcome is Outcome.ACK and r.reason == "":
                metrics.event_outcome(self.service, r.handler, "handled")
            elif r.outcome is Outcome.ACK and r.reason == DUPLICATE:
                metrics.inbox_duplicate(self.service, r.handler)
        return final

    def _name(self, env: Envelope) -> str:
        # One handler per (service, event): naming it by both keeps the inbox key stable across refactors.
        return f"{self.service}:{env.routing_key}"

    def _handle_together(self, session: Session, todo: list, results: list) -> None:
        """The happy path: the batch's new messages claimed by one multi-row INSERT … ON CONFLICT DO
        NOTHING RETURNING (a repeat, or a second copy in the batch, is a duplicate), each handled with
        no savepoint and no flush of its own; any exception leaves the whole batch to the caller."""
        keys = list(dict.fromkeys((env.id, self._name(env)) for _, env, *_ in todo))
        claimed = self._claim_all(session, keys)
        if self.preload is not None and len(claimed) > 1:
            self.preload(session, [payload for _, env, payload, _ in todo if (env.id, self._name(env)) in claimed])
        for i, env, payload, handler in todo:
            key = (env.id, self._name(env))
            if key not in claimed:
                results[i] = Result(Outcome.ACK, DUPLICATE, env.routing_key)
                continue
            claimed.discard(key)  # a second copy in this batch is a duplicate
            # Trace (shared/tracing.py): the message's ids on every log line, its event_log rows on return.
            with tracing.handling(session, self.inbox, env, key[1]):
                handler(HandlerContext(session, env, self.outbox, self.audit_table), payload)
            results[i] = Result(Outcome.ACK, handler=env.routing_key)

    def _handle_one_by_one(self, todo: list, results: list) -> None:
        for i, *_ in todo:
            results[i] = None
        try:
            with unit_of_work(self.factory) as session:
                for i, env, payload, handler in todo:
                    results[i] = self._handle_one(session, env, payload, handler)
        except Exception as exc:  # the commit itself failed: nothing of the batch happened
            if database_unavailable(exc):
                raise DatabaseUnavailable(f"{self.service}: {type(exc).__name__}") from exc
            log.warning("%s: batch commit failed: %s", self.service, type(exc).__name__)
            for i, env, *_ in todo:
                if results[i] is None or results[i].outcome is Outcome.ACK:
                    results[i] = Result(Outcome.RETRY, f"commit failed: {exc!r}"[:500], env.routing_key)

    def _handle_one(self, session: Session, env: Envelope, payload: Payload, handler: Handler) -> Result:
        name = self._name(env)
        savepoint = session.begin_nested()
        try:
            if not self._claim(session, env.id, name):
                savepoint.commit()
                return Result(Outcome.ACK, DUPLICATE, env.routing_key)
            # Trace (shared/tracing.py): the message's ids on every log line, its event_log rows on return.
            with tracing.handling(session, self.inbox, env, name):
                handler(HandlerContext(session, env, self.outbox, self.audit_table), payload)
                session.flush()
            savepoint.commit()
            return Result(Outcome.ACK, handler=env.routing_key)
        except Exception as exc:
            if database_unavailable(exc):
                raise  # the whole batch waits for the database, not this message alone
            savepoint.rollback()
            # The exception text may quote personal data: the log gets its type only.
            log.warning("%s failed on message %s: %s", name, env.id, type(exc).__name__)
            return Result(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:500], env.routing_key)

    def _claim_all(self, session: Session, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of these (message id, handler) keys, those not handled before, now claimed."""
        insert = upsert_insert(session)
        now = utcnow()
        stmt = insert(self.inbox).on_conflict_do_nothing().returning(self.inbox.c.message_id, self.inbox.c.handler)
        # A list of parameters: one multi-row INSERT (insertmanyvalues), compiled once for every batch.
        rows = session.execute(stmt, [{"message_id": m, "handler": h, "processed_at": now} for m, h in keys])
        return {(row.message_id, row.handler) for row in rows}

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
