"""The in-process transport for embedded mode: a durable queue table in one SQLite file.

It routes with the same topology table and topic matcher as RabbitMQ and keeps the same
promises: a published message is on disk before publish returns (the confirm), a message
is deleted only after its handler's transaction committed (the ack), failures are retried
after the topology's delays and then dead-lettered, and a message whose handler keeps
killing the process is dead-lettered after the delivery limit.
"""

import logging
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, func, insert, select, update

from shared import metrics
from shared.db import BigIntId, UTCDateTime, make_engine, utcnow

from .dispatcher import Dispatcher, Outcome
from .publisher import OutgoingMessage
from .topology import TOPOLOGY, QueueSpec, Topology, event_key

log = logging.getLogger(__name__)

_metadata = MetaData()
deliveries = Table(
    "deliveries",
    _metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("queue", String(200), nullable=False, index=True),
    Column("message_id", String(36), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("attempt", Integer, nullable=False, default=0),  # failed handler runs
    Column("deliveries", Integer, nullable=False, default=0),  # times handed to a consumer
    Column("available_at", UTCDateTime, nullable=False),
    Column("dead_reason", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)


class LocalBus:
    def __init__(self, path: Path, topology: Topology = TOPOLOGY):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(f"sqlite:///{path}")
        _metadata.create_all(self.engine)
        self.topology = topology
        self._signals = {q.name: threading.Event() for q in topology.queues}

    # -- publishing (the Publisher protocol) --------------------------------------------
    def publish_batch(self, messages: list[OutgoingMessage]) -> list[str | None]:
        now = utcnow()
        rows, results, touched = [], [], set()
        for m in messages:
            queues = self.topology.route(m.routing_key)
            if not queues:
                results.append(f"unroutable: no queue is bound for {m.routing_key}")
                continue
            results.append(None)
            for q in queues:
                touched.add(q.name)
                rows.append(dict(queue=q.name, message_id=m.message_id, routing_key=m.routing_key,
                                 body=m.body.decode(), attempt=0, deliveries=0,
                                 available_at=now, created_at=now))
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(deliveries), rows)
        for name in touched:
            self._signals[name].set()
        return results

    def close(self) -> None:
        self.engine.dispose()

    def wake_all(self) -> None:
        """Wake every waiting consumer (they then see their stop event)."""
        for signal in self._signals.values():
            signal.set()

    # -- consuming ------------------------------------------------------------------------
    def consume(self, queue: QueueSpec, dispatcher: Dispatcher, stop: threading.Event,
                batch: int = 100) -> None:
        signal = self._signals[queue.name]
        while not stop.is_set():
            signal.clear()
            try:
                handled = self.consume_once(queue, dispatcher, batch)
            except Exception:
                log.exception("local bus: consumer of %s failed; retrying", queue.name)
                stop.wait(1.0)
                continue
            if handled == 0:
                signal.wait(self._idle_wait(queue))

    def consume_once(self, queue: QueueSpec, dispatcher: Dispatcher, batch: int = 100) -> int:
        now = utcnow()
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(deliveries.c.id, deliveries.c.body, deliveries.c.attempt, deliveries.c.deliveries,
                       deliveries.c.routing_key)
                .where(deliveries.c.queue == queue.name, deliveries.c.dead_reason.is_(None),
                       deliveries.c.available_at <= now)
                .order_by(deliveries.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return 0
            # Counted before handling, so a message that kills the process is still counted.
            conn.execute(update(deliveries).where(deliveries.c.id.in_([r.id for r in rows]))
                         .values(deliveries=deliveries.c.deliveries + 1))
        live = [r for r in rows if r.deliveries < queue.delivery_limit]
        service = getattr(dispatcher, "service", queue.name)
        for r in rows:
            if r.deliveries >= queue.delivery_limit:
                self._settle(r.id, dead=f"delivery limit {queue.delivery_limit} reached")
                metrics.event_outcome(service, event_key(r.routing_key), "dead_lettered")
        results = dispatcher.handle_batch([r.body.encode() for r in live]) if live else []
        failed_at = utcnow()  # retry delays count from the failure, not from the fetch
        with self.engine.begin() as conn:
            done = [r.id for r, res in zip(live, results, strict=True) if res.outcome is Outcome.ACK]
            if done:
                conn.execute(delete(deliveries).where(deliveries.c.id.in_(done)))
            for r, res in zip(live, results, strict=True):
                if res.outcome is Outcome.DEAD:
                    conn.execute(update(deliveries).where(deliveries.c.id == r.id)
                                 .values(dead_reason=res.reason))
                elif res.outcome is Outcome.RETRY:
                    attempt = r.attempt + 1
                    if attempt >= queue.max_attempts:
                        values = dict(attempt=attempt, dead_reason=f"gave up after {attempt} attempts: "
                                      f"{res.reason}")
                    else:
                        delay = queue.retry_delays_ms[attempt - 1] / 1000
                        values = dict(attempt=attempt, available_at=failed_at + timedelta(seconds=delay))
                    conn.execute(update(deliveries).where(deliveries.c.id == r.id).values(**values))
        # Counted once the outcome is written: a retry scheduled, or a dead letter.
        for res in results:
            if res.outcome is Outcome.DEAD:
                metrics.event_outcome(service, res.handler, "dead_lettered")
        for r, res in zip(live, results, strict=True):
            if res.outcome is Outcome.RETRY:
                gave_up = r.attempt + 1 >= queue.max_attempts
                metrics.event_outcome(service, res.handler, "dead_lettered" if gave_up else "retried")
        return len(rows)

    def _settle(self, row_id: int, *, dead: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row_id).values(dead_reason=dead))

    def _idle_wait(self, queue: QueueSpec) -> float:
        with self.engine.connect() as conn:
            nxt = conn.execute(
                select(func.min(deliveries.c.available_at))
                .where(deliveries.c.queue == queue.name, deliveries.c.dead_reason.is_(None))
            ).scalar()
        if nxt is None:
            return 5.0
        return max(0.01, min(5.0, (nxt - utcnow()).total_seconds()))

    # -- inspection (operators and tests) --------------------------------------------------
    def dead_letters(self, queue: str) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.message_id, deliveries.c.routing_key, deliveries.c.dead_reason)
                .where(deliveries.c.queue == queue, deliveries.c.dead_reason.is_not(None))
            ).all()
        return [dict(r._mapping) for r in rows]

    def depth(self, queue: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(deliveries.c.queue == queue, deliveries.c.dead_reason.is_(None))
            ).scalar_one()
