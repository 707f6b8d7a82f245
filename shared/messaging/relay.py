"""The outbox relay: publishes committed outbox rows in batches, never dropping one."""

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine, Table, bindparam, delete, or_, select, update

from shared.db import utcnow

from .publisher import OutgoingMessage, Publisher
from .wakeup import Wakeup

log = logging.getLogger(__name__)


class OutboxRelay:
    # New rows wake a backing-off relay, but not more often than this (a surge during an outage).
    MIN_RETRY = 0.2

    def __init__(
        self,
        engine: Engine,
        table: Table,
        publisher: Publisher,
        wakeup: Wakeup,
        *,
        batch: int = 500,
        safety_poll: float = 5.0,
        max_backoff: float = 1.0,
        linger: float = 0.0,
    ):
        self.engine = engine
        self.table = table
        self.publisher = publisher
        self.wakeup = wakeup
        self.batch = batch
        self.safety_poll = safety_poll
        # After a failed batch (broker or database unreachable) the relay tries again after at most this
        # long, or sooner when a commit writes new rows: it publishes within about this long of the
        # broker's return. An attempt against a broker that is down is one refused connection.
        self.max_backoff = max_backoff
        # Woken by a commit, the relay waits this long for the commits right behind it: one batch (a SELECT,
        # a publish, a DELETE) for the few rows of a moderate rate instead of one for each.
        self.linger = linger
        self.published = 0
        self.failing: str | None = None  # why the last batch failed; None once one succeeds (readiness)
        # Built once: the relay runs this after every commit that wrote an event.
        t = table
        self._due = (
            select(t.c.id, t.c.message_id, t.c.routing_key, t.c.body, t.c.attempts)
            .where(or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= bindparam("now")))
            .order_by(t.c.id)
            .limit(batch)
        )
        if engine.dialect.name == "postgresql":
            # Several relays can share one outbox; each takes rows no other relay holds.
            self._due = self._due.with_for_update(skip_locked=True)
        self._published = delete(t).where(t.c.id.in_(bindparam("done", expanding=True)))

    def publish_pending(self) -> int:
        """Publish one batch. Returns how many rows it looked at."""
        t = self.table
        now = utcnow()
        with self.engine.begin() as conn:
            rows = conn.execute(self._due, {"now": now}).all()
            if not rows:
                return 0
            messages = [
                OutgoingMessage(r.message_id, r.routing_key, r.body.encode(), {}) for r in rows
            ]
            # Raises when the broker is unreachable: the transaction rolls back, rows stay.
            outcomes = self.publisher.publish_batch(messages)
            done = [r.id for r, error in zip(rows, outcomes, strict=True) if error is None]
            if done:
                conn.execute(self._published, {"done": done})
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
                if failures:
                    log.info("outbox relay: publishing again after %d failed attempt(s)", failures)
                failures, self.failing = 0, None
            except Exception as exc:
                failures += 1
                self.failing = type(exc).__name__
                delay = min(self.max_backoff, 0.1 * 2 ** min(failures, 16))  # 2**1024 would not fit a float
                # Said once an outage starts and then every minute or so, not at every attempt.
                level = logging.WARNING if failures == 1 or failures % 60 == 0 else logging.DEBUG
                log.log(level, "outbox relay: %s: %s; retrying within %.1fs (attempt %d)",
                        type(exc).__name__, exc, delay, failures)
                self._back_off(delay, stop)
                continue
            if seen < self.batch:
                self.wakeup.wait(self.safety_poll)
                if self.linger:
                    stop.wait(self.linger)

    def _back_off(self, delay: float, stop: threading.Event) -> None:
        """Wait `delay`, or less when new rows are committed meanwhile (never less than MIN_RETRY)."""
        floor = min(delay, self.MIN_RETRY)
        if stop.wait(floor):
            return
        self.wakeup.wait(delay - floor)
