"""Engines and units of work. Nothing here runs at import time."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, lru_cache

from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# SQLite only autoincrements INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer, "sqlite")


def service_metadata() -> MetaData:
    """A service's MetaData with constraint naming, so Alembic migrations name things predictably."""
    return MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    })


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on both PostgreSQL and SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


POOL_RECYCLE_SECONDS = 1800
CONNECT_TIMEOUT_SECONDS = 2
# Statements up to this size keep their parsed form (see _cursor_factory): routing's clocks of a batch of 20
# cases are one INSERT of 20 KB. The entries kept are bounded in number, so in memory (at most some tens of MB,
# in practice a few: few statements are that long).
CACHED_STATEMENT_CHARS = 65_536
CACHED_STATEMENTS = 256


@cache
def _cursor_factory():
    """psycopg's cursor, keeping the parsed form of more statements than psycopg does.

    psycopg turns a statement's %(name)s placeholders into $n anew for every execution of one over 50
    parameters (it keeps 128 shorter ones), which is every multi-row INSERT: the events, trail and timeline
    rows a batch writes at COMMIT (shared/messaging/deferred.py). That parsing was 8 % of the routing
    worker's CPU and 4 % of notify's (issue 15). The variety of such statements is bounded here by the
    batch sizes (prefetch), so they are worth keeping too, within the bounds above."""
    import psycopg
    from psycopg import _queries

    if not hasattr(_queries, "_query2pg_nocache") or not hasattr(_queries.PostgresQuery, "dump"):
        # psycopg's internals moved (a release after 3.3): its own cursor, slower but right.
        return psycopg.Cursor

    @lru_cache(maxsize=CACHED_STATEMENTS)
    def converted(query: str, encoding: str):
        # Keyed by the text as SQLAlchemy hands it over: its compiled statements are the same str objects
        # every time, whose hash Python keeps, so a hit neither encodes nor hashes kilobytes again.
        return _queries._query2pg_nocache(query.encode(encoding), encoding)

    class Query(_queries.PostgresQuery):
        __slots__ = ()

        def convert(self, query, vars) -> None:
            if vars is None or not isinstance(query, str) or len(query) > CACHED_STATEMENT_CHARS:
                return super().convert(query, vars)
            self.query, self._want_formats, self._order, self._parts = converted(query, self._tx.encoding)
            self.dump(vars)

    class Cursor(psycopg.Cursor):
        __slots__ = ()
        _query_cls = Query
        statements = converted  # the parsed statements kept (its cache_info() says how often one was reused)

    return Cursor


def make_engine(url: str, **kwargs) -> Engine:
    # A failed statement's error never carries its bound values (names, phones) into a log.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.pop("pool_size", None)  # SQLite's pool is the driver's own, per thread
        kwargs.pop("max_overflow", None)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _sqlite_tuning(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it cost a round trip on every checkout (7.6 per case, issue 15) to catch what
    # happens once per database restart. Instead the first statement on a dead connection fails,
    # SQLAlchemy sees a disconnect and retires every connection of the pool made before it, the
    # request answers 503 service.database_unavailable (shared/web.py) and its retry gets a fresh
    # connection; a consumer holds its batch until the database answers (shared/messaging/amqp.py).
    # Connections are also renewed after POOL_RECYCLE_SECONDS, so none outlives a failover or a
    # proxy's idle cut-off by long.
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    # While PostgreSQL is away, connecting must fail within seconds (libpq's minimum is 2), not hang
    # a request for the operating system's TCP timeout.
    kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **kwargs.get("connect_args", {})}
    if url.startswith("postgresql+psycopg:"):
        kwargs["connect_args"].setdefault("cursor_factory", _cursor_factory())
    return create_engine(url, **kwargs)


# SQLSTATEs of PostgreSQL going away: class 08 (connection exception), and the server shutting down
# (57P01 admin, 57P02 crash) or not yet accepting connections (57P03, starting up or recovering).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


class DatabaseUnavailable(Exception):
    """The database could not be reached for a unit of work; nothing of it was applied, and the
    same work done again once the database answers is safe (a consumer's batch: the inbox drops
    what a lost COMMIT acknowledgement may have applied after all)."""


def database_unavailable(exc: BaseException) -> bool:
    """Did this error come from the database being out of reach (down, restarting, the connection
    cut) rather than from the statement? Then trying again in a moment is the remedy, so a request
    answers 503 with Retry-After and a consumer keeps its batch, instead of a 500 or a retry that
    counts towards the dead-letter queue. An error raised while handling another is judged by the
    first (a SAVEPOINT rolled back on a dead connection fails too)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DatabaseUnavailable):
            return True
        if isinstance(exc, DBAPIError):
            if exc.connection_invalidated:  # SQLAlchemy's dialect recognised a disconnect
                return True
            # Connecting failed (refused, timed out, the server starting up): no connection to invalidate.
            # Only PostgreSQL's driver: SQLite's OperationalError ("database is locked") is no outage.
            if isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("psycopg"):
                state = getattr(exc.orig, "sqlstate", None)
                if state is None or state.startswith(_UNAVAILABLE_STATES):
                    return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _sqlite_tuning(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and upgrades read locks to
    # write locks mid-transaction ("database is locked"); take control of BEGIN ourselves.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Sealed and retention-masked values must not survive in free pages of the file.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_insert(session_or_conn):
    """The dialect's INSERT construct (with ON CONFLICT) for the database the session is bound to:
    the services run on PostgreSQL and, embedded, on SQLite, and the two constructs differ."""
    bind = session_or_conn.get_bind() if hasattr(session_or_conn, "get_bind") else session_or_conn
    return pg_insert if bind.dialect.name == "postgresql" else sqlite_insert


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commits when the block ends normally, rolls back otherwise (unless the exception asks to keep
    the changes): the one place that commits."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        # A refusal marked `keep` (shared.errors.ApiError) keeps what was written before it.
        if getattr(exc, "keep", False) is True:
            session.commit()
        else:
            session.rollback()
        raise
    finally:
        session.close()
