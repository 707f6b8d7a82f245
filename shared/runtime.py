"""What one service needs at run time, built explicitly (never at import time)."""

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import make_engine, session_factory, unit_of_work
from .messaging.outbox import Outbox, signal_relay_after_commit


@dataclass
class ServiceRuntime:
    name: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    outbox: Outbox
    inbox: Table
    relay_signal: threading.Event
    cache: dict = field(default_factory=dict)  # per-service caches, e.g. routing's grid index

    def uow(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(name: str, settings: Settings, outbox_table: Table, inbox_table: Table,
                  url: str | None = None) -> ServiceRuntime:
    engine = make_engine(url or settings.database_url(name))
    sessions = session_factory(engine)
    signal = threading.Event()
    signal_relay_after_commit(sessions)
    return ServiceRuntime(name, settings, engine, sessions, Outbox(outbox_table, name, signal), inbox_table,
                          signal)
