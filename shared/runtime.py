"""What one service needs at run time, built explicitly (never at import time)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table
from sqlalchemy.orm import Session, sessionmaker

from . import tracing
from .audit import SYSTEM, Actor, AuditKeys, audit_keys
from .config import Settings
from .db import make_engine, session_factory, unit_of_work
from .messaging.outbox import Outbox, signal_relay_after_commit
from .uow import UnitOfWork


@dataclass
class ServiceRuntime:
    name: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    outbox: Outbox
    inbox: Table
    relay_signal: threading.Event
    audit: Table | None = None  # the service's audit trail (shared/audit.py)
    cache: dict = field(default_factory=dict)  # per-service caches, e.g. routing's grid index
    # Events threads of this service wait on besides their stop event (the relay's signal, notify's
    # sender wake-up): set when the worker stops, so no thread sleeps out its timeout.
    wakeups: list[threading.Event] = field(default_factory=list)

    def uow(self) -> AbstractContextManager[Session]:
        """A session in one transaction, committed when the block ends normally (reads, and writes
        that emit nothing)."""
        return unit_of_work(self.sessions)

    @contextmanager
    def unit_of_work(self, correlation_id: str | None = None, causation_id: str | None = None,
                     actor: Callable[[], Actor] | None = None,
                     on_conceal: Callable[[Actor], None] | None = None) -> Iterator[UnitOfWork]:
        """A transaction and the `emit` of its events (requests and background jobs; a job acts as
        "system" unless told who). Without a correlation id, the one of the code running now, else a
        new one: a background job's run (a clock scan) is its own chain of events, traced as one."""
        started = correlation_id is None and tracing.correlation_id() is None
        correlation_id = correlation_id or tracing.correlation_id() or tracing.new_correlation_id()
        job = {"service": self.name, "role": "worker", "correlation_id": correlation_id} if started else {}
        with unit_of_work(self.sessions) as session, tracing.context(**job):
            yield UnitOfWork(session, self.outbox, correlation_id, causation_id, self.audit,
                             actor or (lambda: SYSTEM), pseudonym=lambda user, subject: self.audit_keys.pseudonym(
                                 user, subject), on_conceal=on_conceal)

    @property
    def audit_keys(self) -> AuditKeys:
        """The keys of this service's audit trail (chain, pseudonyms), derived once per runtime."""
        keys = self.cache.get("audit_keys")
        if keys is None:
            keys = self.cache.setdefault("audit_keys", audit_keys(self.settings, self.name))
        return keys

    def wakeup(self, key: str) -> threading.Event:
        """A named event of this service that a stopping worker sets (see `wakeups`)."""
        event = self.cache.get(("wakeup", key))
        if event is None:
            event = self.cache.setdefault(("wakeup", key), threading.Event())
            self.wakeups.append(event)
        return event

    def wake_all(self) -> None:
        for event in [self.relay_signal, *self.wakeups]:
            event.set()

    def dispose(self) -> None:
        from . import metrics  # not at import time: shared.metrics needs nothing of the runtime's

        metrics.forget_outbox(self)
        self.engine.dispose()


def build_runtime(name: str, settings: Settings, outbox_table: Table, inbox_table: Table,
                  url: str | None = None, audit_table: Table | None = None) -> ServiceRuntime:
    engine = make_engine(url or settings.database_url(name), pool_size=settings.db_pool_size,
                         max_overflow=settings.db_max_overflow)
    sessions = session_factory(engine)
    signal = threading.Event()
    signal_relay_after_commit(sessions)
    return ServiceRuntime(name, settings, engine, sessions, Outbox(outbox_table, name, signal), inbox_table,
                          signal, audit_table)
