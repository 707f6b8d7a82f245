"""What the relay waits on between batches: a thread event, or PostgreSQL LISTEN."""

import logging
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)


class Wakeup(Protocol):
    def clear(self) -> None: ...
    def wait(self, timeout: float) -> None: ...


class LocalWakeup:
    def __init__(self, signal: threading.Event):
        self.signal = signal

    def clear(self) -> None:
        self.signal.clear()

    def wait(self, timeout: float) -> None:
        self.signal.wait(timeout)


class PgNotifier:
    """Turns this process's after-commit signal into a PostgreSQL NOTIFY for relays elsewhere.

    Not NOTIFY inside the writing transaction: PostgreSQL serialises the commits of notifying
    transactions on one lock held across the WAL flush, which capped intake at ~100 cases/s.
    Here a commit only sets an event; this thread sends one NOTIFY per burst. Should the
    process die between commit and NOTIFY, the relay's safety poll still finds the rows.
    """

    def __init__(self, dsn: str, channel: str, signal: threading.Event):
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self.channel = channel
        self.signal = signal

    def run(self, stop: threading.Event) -> None:
        import psycopg

        conn = None
        while not stop.is_set():
            if not self.signal.wait(0.5):
                continue
            self.signal.clear()
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True)
                conn.execute(f'NOTIFY "{self.channel}"')
            except Exception as exc:
                log.warning("outbox NOTIFY failed (%s); the relay's poll will cover it", type(exc).__name__)
                conn = None
                stop.wait(1.0)
        if conn is not None:
            conn.close()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name=f"notify-{self.channel}", daemon=True)
        thread.start()
        return thread


class PgWakeup:
    """LISTEN on the outbox channel; a lost connection degrades to the safety poll, then reconnects."""

    # How long one wait on the socket lasts, and so how soon `interrupt` is noticed.
    SLICE = 0.25

    def __init__(self, dsn: str, channel: str):
        # SQLAlchemy URL → libpq URL
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self.channel = channel
        self._conn = None
        self._interrupted = threading.Event()
        self._failing = False  # said once per outage, not at every retry

    def _connection(self):
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = psycopg.connect(self.dsn, autocommit=True)
            self._conn.execute(f'LISTEN "{self.channel}"')
        return self._conn

    def clear(self) -> None:
        self.wait(0)

    def wait(self, timeout: float) -> None:
        try:
            conn = self._connection()
            deadline = time.monotonic() + timeout
            while not self._interrupted.is_set():
                left = deadline - time.monotonic()
                if self._failing:
                    self._failing = False
                    log.info("outbox LISTEN restored")
                if list(conn.notifies(timeout=max(0.0, min(left, self.SLICE)), stop_after=1)):
                    list(conn.notifies(timeout=0))  # drain the rest: one batch serves them all
                    return
                if left <= self.SLICE:
                    return
        except Exception as exc:  # the database went away: fall back to polling, retry later
            if not self._failing:
                log.warning("outbox LISTEN failed (%s); polling until the database answers", type(exc).__name__)
                self._failing = True
            self.close()
            self._interrupted.wait(min(timeout, 1.0))

    def interrupt(self) -> None:
        """End the current and every later wait at once (the worker is stopping)."""
        self._interrupted.set()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
