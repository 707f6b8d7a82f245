"""The outbox relay: publishes committed outbox rows in batches, never dropping one."""

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine, Table, delete, or_, select, update

from shared.db import utcnow

from .publisher import OutgoingMessage, Publisher
from .wakeup import Wakeup

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        table: Table,
        publisher: Publisher,
        wakeup: Wakeup,
        *,
        batch: int = 500,
        safety_poll: float = 5.0,
    ):
        self.engine = engine
        self.table = table
        self.publisher = publisher
        self.wakeup = wakeup
        self.batch = batch
        self.safety_poll = safety_poll
        self.published = 0

    def publish_pending(self) -> int:
        """Publish one batch. Returns how many rows it looked at."""
        t = self.table
        now = utcnow()
        query = (
            select(t.c.id, t.c.message_id, t.c.routing_key, t.c.body, t.c.attempts)
            .where(or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now))
            .order_by(t.c.id)
            .limit(self.batch)
        )
        if self.engine.dialect.name == "postgresql":
            # Several relays can share one outbox; each takes rows no other relay holds.
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return 0
            messages = [
                OutgoingMessage(r.message_id, r.routing_key, r.body.encode(), {}) for r in rows
            ]
            # Raises when the broker is unreachable: the transaction rolls back, rows stay.
            outcomes = self.publisher.publish_batch(messages)
            done = [r.id for r, error in zip(rows, outcomes, strict=True) if error is None]
            if done:
                conn.execute(delete(t).where(t.c.id.in_(done)))
            for row, error in zip(rows, outcomes, strict=True):
                if error is not None:
                    delay = min(300.0, 2.0 ** min(row.attempts, 8))
                    log.error("outbox %s (%s) not published: %s; retry in %.0fs",
                              row.message_id, row.routing_key, error, delay)
                    conn.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(attempts=row.attempts + 1, last_error=error[:2000],
                                next_attempt_at=now + timedelta(seconds=delay))
                    )
            self.published += len(done)
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            self.wakeup.clear()
            try:
                seen = self.publish_pending()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(30.0, 0.2 * 2**failures)
                log.warning("outbox relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, delay)
                stop.wait(delay)
                continue
            if seen < self.batch:
                self.wakeup.wait(self.safety_poll)
