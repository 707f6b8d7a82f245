"""What every service keeps of the identity service's events, so it can refuse a revoked token
or accept a government system's key without asking identity on each request.

Two tables in each service's own database (added to its metadata beside the outbox and inbox),
written by the consumer from `identity.*` events, read by the API through `AuthState`: a small
in-memory copy refreshed from the tables at most every `refresh_seconds`, so a revocation takes
effect within seconds of its event, and a request costs no query.
"""

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, Index, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.orm import Session

from .db import BigIntId, UTCDateTime, upsert_insert, utcnow
from .events.identity import ApiKeyChanged, SessionRevoked, UserChanged
from .messaging.dispatcher import Handler, HandlerContext


@dataclass(frozen=True)
class AuthTables:
    revocations: Table
    api_keys: Table


def auth_tables(metadata: MetaData) -> AuthTables:
    revocations = Table(
        "auth_revocations", metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("kind", String(10), nullable=False),  # user | session
        Column("subject", String(64), nullable=False),
        # Tokens of the subject issued at or before this moment are refused.
        Column("revoked_at", UTCDateTime, nullable=False),
    )
    Index("ix_auth_revocations_revoked_at", revocations.c.revoked_at)  # the recent ones are read
    api_keys = Table(
        "auth_api_keys", metadata,
        Column("key_id", String(40), primary_key=True),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("name", String(100), nullable=False),
        Column("scopes", Text, nullable=False),  # JSON list
        Column("area_code", String(32), nullable=True),
        Column("expires_at", UTCDateTime, nullable=True),
        Column("revoked_at", UTCDateTime, nullable=True),
        Column("version", Integer, nullable=False),  # bumped on every change: the cache's cue to reload
        Column("updated_at", UTCDateTime, nullable=False),
    )
    return AuthTables(revocations, api_keys)


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --------------------------------------------------------------------------- writing (consumers)


def record_revocation(session: Session, tables: AuthTables, kind: str, subject: str, at: datetime) -> None:
    session.execute(tables.revocations.insert().values(kind=kind, subject=subject, revoked_at=at))


def record_api_key(session: Session, tables: AuthTables, e: ApiKeyChanged) -> None:
    t = tables.api_keys
    values = dict(key_id=e.key_id, key_hash=e.key_hash, name=e.name, scopes=json.dumps(e.scopes),
                  area_code=e.area_code, expires_at=e.expires_at, revoked_at=e.revoked_at, version=1, updated_at=e.at)
    insert = upsert_insert(session)(t).values(**values)
    # A late copy of an older change never undoes a newer one (a revocation stays revoked).
    session.execute(insert.on_conflict_do_update(
        index_elements=[t.c.key_id],
        set_={**{k: insert.excluded[k] for k in ("name", "scopes", "area_code", "expires_at", "revoked_at",
                                                  "updated_at")}, "version": t.c.version + 1},
        where=t.c.updated_at <= insert.excluded.updated_at))


def auth_handlers(tables: AuthTables) -> dict[str, Handler]:
    def on_user(ctx: HandlerContext, e: UserChanged) -> None:
        if not e.active:
            record_revocation(ctx.session, tables, "user", e.user_id, e.at)

    def on_session(ctx: HandlerContext, e: SessionRevoked) -> None:
        record_revocation(ctx.session, tables, "session", e.session_id, e.at)

    def on_api_key(ctx: HandlerContext, e: ApiKeyChanged) -> None:
        record_api_key(ctx.session, tables, e)

    return {"identity.user.changed.v1": on_user, "identity.session.revoked.v1": on_session,
            "identity.api_key.changed.v1": on_api_key}


# --------------------------------------------------------------------------- reading (the API)


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    name: str
    scopes: frozenset[str]
    area_code: str | None
    expires_at: datetime | None
    revoked_at: datetime | None


class AuthState:
    def __init__(self, engine: Engine, tables: AuthTables, *, horizon_seconds: float, refresh_seconds: float = 2.0):
        # A revocation older than the longest token lifetime concerns only expired tokens: forgotten.
        self.engine, self.tables, self.refresh_seconds = engine, tables, refresh_seconds
        self.horizon = timedelta(seconds=horizon_seconds)
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._revocations_mark: tuple | None = None
        self._keys_version: tuple | None = None
        self._users: dict[str, datetime] = {}
        self._sessions: dict[str, datetime] = {}
        self._keys: dict[str, ApiKeyRecord] = {}

    def _refresh(self) -> None:
        if time.monotonic() - self._checked < self.refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._checked < self.refresh_seconds:
                return
            r, k = self.tables.revocations, self.tables.api_keys
            oldest = utcnow() - self.horizon
            recent = r.c.revoked_at >= oldest
            with self.engine.connect() as conn:
                # (count, max id) of the recent rows changes with any new row, including one whose
                # transaction committed after a higher id was read: then everything recent is read again.
                mark = tuple(conn.execute(select(func.count(), func.max(r.c.id)).where(recent)).one())
                if mark != self._revocations_mark:
                    users: dict[str, datetime] = {}
                    sessions: dict[str, datetime] = {}
                    for row in conn.execute(select(r.c.kind, r.c.subject, r.c.revoked_at).where(recent)):
                        target = users if row.kind == "user" else sessions
                        target[row.subject] = max(row.revoked_at, target.get(row.subject, row.revoked_at))
                    self._users, self._sessions, self._revocations_mark = users, sessions, mark
                version = tuple(conn.execute(select(func.count(), func.coalesce(func.sum(k.c.version), 0))
                                             .select_from(k)).one())
                if version != self._keys_version:
                    self._keys = {row.key_hash: ApiKeyRecord(row.key_id, row.name, frozenset(json.loads(row.scopes)),
                                                             row.area_code, row.expires_at, row.revoked_at)
                                  for row in conn.execute(select(k))}
                    self._keys_version = version
            self._checked = time.monotonic()

    def revoked(self, user_id: str, session_id: str | None, issued_at: datetime) -> bool:
        """Was a token of this user and session issued before either was revoked?"""
        self._refresh()
        return self._revoked(user_id, session_id, issued_at)

    def revoked_known(self, user_id: str, session_id: str | None, issued_at: datetime) -> bool | None:
        """`revoked` where it needs no reading of the tables now, else None (a check that must not block
        asks this first)."""
        if time.monotonic() - self._checked >= self.refresh_seconds:
            return None
        return self._revoked(user_id, session_id, issued_at)

    def _revoked(self, user_id: str, session_id: str | None, issued_at: datetime) -> bool:
        user = self._users.get(user_id)
        if user is not None and issued_at <= user:
            return True
        sess = self._sessions.get(session_id) if session_id else None
        return sess is not None and issued_at <= sess

    def api_key(self, secret: str) -> ApiKeyRecord | None:
        self._refresh()
        return self._keys.get(key_hash(secret))

    def forget(self) -> None:
        """Read the tables again on the next check (after this process wrote them itself)."""
        self._checked = float("-inf")


class ApiKeyUseReporter:
    """Tells identity a key was used here (`<service>.api_key.used`), at most once a minute per key
    and process: identity shows the key's last use, and a request does not write for each call."""

    def __init__(self, rt, every_seconds: float = 60.0):
        from .events.identity import API_KEY_USED

        self.rt, self.every = rt, every_seconds
        self.payload = API_KEY_USED.get(rt.name)  # None: a service with no report of its own
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, key_id: str) -> None:
        if self.payload is None:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key_id, float("-inf")) < self.every:
                return
            self._last[key_id] = now
        with self.rt.unit_of_work() as uow:
            uow.emit(self.payload(key_id=key_id, at=utcnow()))
