"""What the relay waits on between batches: a thread event, or PostgreSQL LISTEN."""

import logging
import threading
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


class PgWakeup:
    """LISTEN on the outbox channel; a lost connection degrades to the safety poll, then reconnects."""

    def __init__(self, dsn: str, channel: str):
        # SQLAlchemy URL → libpq URL
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self.channel = channel
        self._conn = None

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
            if list(conn.notifies(timeout=timeout, stop_after=1)):
                list(conn.notifies(timeout=0))  # drain the rest: one batch serves them all
        except Exception as exc:  # the database went away: fall back to polling, retry later
            log.warning("outbox LISTEN failed (%s); polling instead", type(exc).__name__)
            self.close()
            threading.Event().wait(min(timeout, 1.0))

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
