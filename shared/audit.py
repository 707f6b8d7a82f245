"""The audit trail every service keeps: append-only, tamper-evident, read within the reader's scope.

What is recorded (等保三级 security audit): every state change (each event a request or a handler
emits becomes an entry: who, what, which subject, when, from where, the request id), every read of
a confidential record (a confidential case, a mediation record), every export, every permission or
account change, every sign-in (identity) and every refusal (a 403 or 404 answered to someone signed
in: `refused.<code>`, shared/audit_api.py). Entries hold ids and codes, never personal data.

Who is named: the user or API key acting, with the address. A resident acting on her own anonymous
or confidential case is named by a keyed pseudonym instead, without her address: "anon:" and 16 hex
digits of an HMAC, under a key per service derived from CG_INDEX_KEY, of her user id AND the entry's
subject (the case, say). The service tells its unit of work so (`UnitOfWork.conceal_actor`) where
it recognises her as the reporter. Per subject, not per person: one pseudonym per resident would
link her anonymous cases to each other, and to her one act anywhere under her own name that a
reader could pair with it. The link is stored nowhere; the security officer, who holds the key,
checks a user id against an entry with
`python -m shared.audit pseudonym <service> <user-id> <kind:id> [<pseudonym>]`.

Tamper evidence, in four layers:
- A chain: requests insert entries unchained, so auditing never serialises the services' writers;
  the worker's background `seal` chains them in id order within seconds, each entry carrying the
  HMAC-SHA256 of the one before and itself under a key derived from the deployment's CG_INDEX_KEY
  (per service, never in the database), so someone who can write the database cannot recompute it.
  The sealer never chains an entry below the last sealed one; `verify` recomputes the chain and
  reports an entry edited, deleted, slipped in, or left unsealed below a sealed one.
- An anchor outside the database: each sealing appends the new head (id, hash, entry time, number of
  entries) to `<CG_AUDIT_ANCHOR_DIR>/<service>.jsonl` and logs it as a structured line (`audit
  anchor {...}`); `verify` checks that every anchored head is still in the chain with its hash
  and that many entries up to it, so entries removed from the end, or a chain rebuilt from some
  point on, are found too. Operators ship the file (or the log lines) off the host: see
  docs/security.md.
- Triggers (SQLite and PostgreSQL, created by the migrations and by `metadata.create_all`): a sealed
  entry can be neither changed nor deleted, an unsealed one only chained, and none deleted (nor the
  table truncated on PostgreSQL), so even the application's own database role cannot rewrite
  history without dropping them first.
- On PostgreSQL, sealing waits for the transactions still open (entries get their ids when they
  are written, not when they commit), so a late commit never lands below the sealed chain.

    python -m shared.audit verify routing      # exit 1 and the first broken entry, or "intact"
    python -m shared.audit verify routing --anchor /mnt/offsite/routing.jsonl
    python -m shared.audit pseudonym intake u-resident-1 case:<case-id> [anon:0123456789abcdef]
"""

import hashlib
import heapq
import hmac
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    DDL,
    Column,
    Connection,
    Index,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    false,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from .db import BigIntId, UTCDateTime, unit_of_work, utcnow
from .masking import mask_free_text

log = logging.getLogger(__name__)
GENESIS = "0" * 64
SEAL_BATCH = 1000
APPEND_ONLY = "audit entries are append-only"
# Every column but the chain's: an unsealed entry may be chained (hash, prev_hash set), nothing else.
_CONTENT = ("id", "at", "actor_id", "actor_role", "action", "subject_kind", "subject_id", "detail", "ip",
            "request_id")


def audit_table(metadata: MetaData) -> Table:
    table = Table(
        "audit_trail", metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        # A user, a pseudonym ("anon:…"), an API key ("key:<id>"), or "system".
        Column("actor_id", String(64), nullable=True),
        Column("actor_role", String(30), nullable=True),
        Column("action", String(80), nullable=False),  # e.g. intake.case.submitted, read.case, export.ledger
        Column("subject_kind", String(30), nullable=True),
        Column("subject_id", String(64), nullable=True),
        Column("detail", Text, nullable=True),  # JSON of ids and codes only
        Column("ip", String(45), nullable=True),
        Column("request_id", String(64), nullable=True),
        Column("prev_hash", String(64), nullable=True),  # NULL until sealed
        Column("hash", String(64), nullable=True, unique=True),
    )
    Index("ix_audit_trail_subject", table.c.subject_kind, table.c.subject_id)
    Index("ix_audit_trail_at", table.c.at)
    # Tables made by metadata.create_all (tests, tools) are append-only too; migrations run the same DDL.
    for dialect, statements in (("sqlite", sqlite_append_only_ddl()), ("postgresql", append_only_ddl())):
        for statement in statements:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
    return table


# --------------------------------------------------------------------------- append-only triggers


def append_only_ddl(table: str = "audit_trail") -> list[str]:
    """PostgreSQL: a sealed entry can be neither changed nor deleted, an unsealed one only chained;
    no entry is deleted and the table is not truncated (run by the migrations and create_all)."""
    unchanged = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _CONTENT)
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN
            IF OLD.hash IS NULL AND {unchanged} THEN
              RETURN NEW;
            END IF;
          ELSIF TG_OP = 'INSERT' THEN
            IF NEW.hash IS NULL AND NEW.prev_hash IS NULL THEN
              RETURN NEW;
            END IF;
          END IF;
          RAISE EXCEPTION '{APPEND_ONLY}';
        END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
    ]


def sqlite_append_only_ddl(table: str = "audit_trail") -> list[str]:
    """SQLite: the same rules as `append_only_ddl`. A migration that rebuilds the table (batch mode)
    drops them: it must run these again."""
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)
    refuse = f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    # INSERT OR REPLACE deletes the row it replaces without firing the delete trigger (recursive
    # triggers are off): an insert may neither reuse an id nor arrive sealed.
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN OLD.hash IS NOT NULL OR {changed} {refuse}",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {refuse}",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} FOR EACH ROW "
        f"WHEN NEW.hash IS NOT NULL OR NEW.prev_hash IS NOT NULL "
        f"OR EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) {refuse}",
    ]


def drop_sqlite_append_only_ddl(table: str = "audit_trail") -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_{name}" for name in ("no_update", "no_delete", "no_replace")]


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class AuditKeys:
    """A service's two audit keys, derived from the deployment's CG_INDEX_KEY (never stored in the
    database): one chains the entries, one makes the pseudonyms of anonymous reporters."""

    chain: bytes
    pseudonyms: bytes

    def digest(self, prev: str, row) -> str:
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        fields = [prev, str(row.id), at.astimezone(UTC).isoformat(), row.actor_id or "", row.actor_role or "",
                  row.action, row.subject_kind or "", row.subject_id or "", row.detail or "", row.ip or "",
                  row.request_id or ""]
        return hmac.new(self.chain, "\x1f".join(fields).encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, user_id: str, subject: str) -> str:
        """The name of this user's concealed acts on this subject ("kind:id", `subject_key`)."""
        message = f"{user_id}\x1f{subject}".encode()
        return "anon:" + hmac.new(self.pseudonyms, message, hashlib.sha256).hexdigest()[:16]


def subject_key(kind: str | None, subject_id: str | None) -> str:
    return f"{kind or ''}:{subject_id or ''}"


def audit_keys(settings, service: str) -> AuditKeys:
    """The service's audit keys (KeyConfigError in services mode without CG_INDEX_KEY). Rotating the
    index key means re-chaining every trail (what the keyed-chain migrations do) and new pseudonyms."""
    from .keys import blind_index

    index = blind_index(settings)
    return AuditKeys(bytes.fromhex(index(service, "audit.chain")), bytes.fromhex(index(service, "audit.pseudonym")))


# --------------------------------------------------------------------------- writing entries


ANONYMOUS = "anon"


@dataclass(frozen=True)
class Actor:
    """Who is acting, where from, in which request: what every entry of a unit of work shares."""

    id: str | None = None
    role: str | None = None
    ip: str | None = None
    request_id: str | None = None

    def concealed(self, pseudonym: Callable[[str, str], str] | None = None, subject: str = "") -> "Actor":
        """The actor as an anonymous or confidential reporter's own acts on `subject` name her: a
        keyed pseudonym of her and the subject, no address (without `pseudonym`: "anon" alone)."""
        named = pseudonym(self.id, subject) if pseudonym is not None and self.id else ANONYMOUS
        return Actor(named, self.role, None, self.request_id)


SYSTEM = Actor(id="system")


def record(session: Session | Connection, table: Table, actor: Actor | None, action: str, *,
           subject_kind: str | None = None, subject_id: str | None = None, detail: dict | None = None,
           at: datetime | None = None) -> None:
    session.execute(table.insert().values(**entry(actor, action, subject_kind=subject_kind, subject_id=subject_id,
                                                  detail=detail, at=at)))


def entry(actor: Actor | None, action: str, *, subject_kind: str | None = None, subject_id: str | None = None,
          detail: dict | None = None, at: datetime | None = None) -> dict:
    """The row `record` inserts (a consumer's batch inserts its rows together at COMMIT)."""
    actor = actor or SYSTEM
    return dict(
        at=at or utcnow(), actor_id=actor.id, actor_role=actor.role, action=action[:80],
        subject_kind=None if subject_kind is None else subject_kind[:30],
        subject_id=None if subject_id is None else str(subject_id)[:64],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else None,
        ip=actor.ip, request_id=actor.request_id)


_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_LONG_NUMBER = re.compile(r"\d{7,}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def safe_id(value, code: bool = False) -> str:
    """A value given where an id belongs, as the trail may keep it: a short run of letters, digits and
    `-_.:` with no run of 7 digits or more (our ids are UUIDs, case numbers and user ids), else
    "(invalid)"; `code`: a unit code (15 digits) is an id too. Someone may type a phone or an ID
    number, with any separators, where an id belongs; nothing of it reaches the trail."""
    text = str(value)
    if _UUID.fullmatch(text):  # its hex may hold a run of digits of any length
        return text
    if not _ID.fullmatch(text):
        return "(invalid)"
    if code and text.isdigit() and len(text) == 15:
        return text
    masked = mask_free_text(text) or ""
    return "(invalid)" if _LONG_NUMBER.search(masked) or masked != text else masked


def recorded(error: Exception) -> Exception:
    """Marks a refusal the service recorded itself, in its own words (mediation's refused reads), so
    the shared record of refusals (shared/audit_api.py) does not record it twice."""
    error.audit_recorded = True
    return error


# --------------------------------------------------------------------------- sealing


@dataclass(frozen=True)
class Head:
    """The last sealed entry, as anchored outside the database."""

    id: int
    hash: str
    at: datetime
    count: int  # entries in the chain up to and including this one

    def as_json(self, service: str) -> dict:
        return {"service": service, "id": self.id, "hash": self.hash, "at": self.at.astimezone(UTC).isoformat(),
                "count": self.count}


def _last_sealed(session: Session, table: Table):
    return session.execute(select(table.c.id, table.c.hash, table.c.at).where(table.c.hash.is_not(None))
                           .order_by(table.c.id.desc()).limit(1)).first()


def _cutoff(session: Session, settle_seconds: float) -> datetime | None:
    """PostgreSQL: only entries written before every transaction still open began (less a margin for
    clocks) are sealed, since an entry's id is taken when it is written, not when it commits: a
    transaction open now may still commit an entry with a lower id. SQLite has one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    oldest = session.scalar(text(
        "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
    cutoff = utcnow()
    if oldest is not None:
        cutoff = min(cutoff, oldest)
    return cutoff - timedelta(seconds=settle_seconds)


def _seal(session: Session, table: Table, keys: AuditKeys, limit: int, settle_seconds: float):
    if session.get_bind().dialect.name == "postgresql":  # one sealer at a time
        session.execute(select(func.pg_advisory_xact_lock(0x5EA1_0A0D)))
    last = _last_sealed(session, table)
    prev = last.hash if last else GENESIS
    query = select(table).where(table.c.hash.is_(None)).order_by(table.c.id).limit(limit)
    if last is not None:  # never below the chain: an entry there lost its seal, which verify reports
        query = query.where(table.c.id > last.id)
    cutoff = _cutoff(session, settle_seconds)
    sealed, seals = [], []
    for row in session.execute(query).all():
        if cutoff is not None and row.at >= cutoff:
            break
        digest = keys.digest(prev, row)
        seals.append({"sealed_id": row.id, "sealed_prev": prev, "sealed_hash": digest})
        prev = digest
        sealed.append((row.id, digest, row.at))
    if seals:
        # One statement for the round, executed for every entry (psycopg sends them in one pipeline): an
        # UPDATE per entry was a round trip per entry, and every service's worker seals every entry it wrote.
        session.execute(update(table).where(table.c.id == bindparam("sealed_id"))
                        .values(prev_hash=bindparam("sealed_prev"), hash=bindparam("sealed_hash")), seals)
    return last, sealed


def seal(session: Session, table: Table, keys: AuditKeys, limit: int = SEAL_BATCH, *,
         settle_seconds: float = 0.0) -> int:
    """Chain the unsealed entries after the last sealed one, in id order; returns how many."""
    return len(_seal(session, table, keys, limit, settle_seconds)[1])


class Anchor:
    """The append-only file of a service's chain heads, outside the database: one JSON line per
    sealing. Its last line is what `verify` holds the chain to."""

    def __init__(self, path: Path, service: str):
        self.path, self.service = path, service

    @classmethod
    def of(cls, settings, service: str) -> "Anchor":
        folder = settings.audit_anchor_dir or (settings.var_dir / "audit-anchors")
        return cls(Path(folder).resolve() / f"{service}.jsonl", service)

    def append(self, head: Head) -> None:
        line = json.dumps(head.as_json(self.service), sort_keys=True, separators=(",", ":"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        log.info("audit anchor %s", line)

    def heads(self, reorder: int = 1000) -> Iterator[Head]:
        """Every anchored head in id order, read as a stream (one line per sealing). Two workers of a
        host append after their commits, so lines may be slightly out of order: a small heap puts
        them back."""
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            return
        waiting: list[tuple[int, int, Head]] = []
        with f:
            for n, line in enumerate(f):
                if line.strip():
                    head = _head(json.loads(line))
                    heapq.heappush(waiting, (head.id, n, head))
                    if len(waiting) > reorder:
                        yield heapq.heappop(waiting)[2]
        while waiting:
            yield heapq.heappop(waiting)[2]

    def last(self) -> Head | None:
        try:
            with self.path.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
                lines = [x for x in f.read().splitlines() if x.strip()]
        except FileNotFoundError:
            return None
        if not lines:
            return None
        return _head(json.loads(lines[-1]))


def _head(data: dict) -> Head:
    return Head(int(data["id"]), data["hash"], datetime.fromisoformat(data["at"]), int(data["count"]))


def seal_pending(rt, limit: int = SEAL_BATCH) -> int:
    """The worker's sealing round for one service (`rt`: its ServiceRuntime): chain what is pending,
    commit, then anchor the new head outside the database. Returns how many entries it chained."""
    anchor = Anchor.of(rt.settings, rt.name)
    with unit_of_work(rt.sessions) as session:
        start, sealed = _seal(session, rt.audit, rt.audit_keys, limit, rt.settings.audit_seal_settle_seconds)
        if not sealed:
            return 0
        head_id, head_hash, head_at = sealed[-1]
        before = anchor.last()
        if before is not None and start is not None and (before.id, before.hash) == (start.id, start.hash):
            count = before.count + len(sealed)
        else:  # the first anchor, or one written by another worker meanwhile: count once
            t = rt.audit
            count = session.scalar(select(func.count()).select_from(t).where(t.c.hash.is_not(None), t.c.id <= head_id))
    anchor.append(Head(head_id, head_hash, head_at, count))  # after the commit: it names only what is kept
    return len(sealed)


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Verdict:
    checked: int
    broken_at: int | None  # the id of the first entry whose chain does not hold
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(session: Session, table: Table, keys: AuditKeys, anchors: Iterable[Head] = ()) -> Verdict:
    """Recompute the chain under the key, and hold it to every head anchored outside the database
    (oldest first): each must still be in the chain, with its hash and that many entries up to it.
    Every head, not the last alone: someone who unseals the tail, edits it and lets the sealer chain
    it again gets a new last head anchored, but the heads anchored before still name the old hashes."""
    pending = iter(anchors)
    anchor = next(pending, None)
    prev, checked = GENESIS, 0
    last = _last_sealed(session, table)
    query = select(table).order_by(table.c.id).execution_options(yield_per=5000)
    query = query.where(table.c.id <= last.id) if last is not None else query.where(false())
    for row in session.execute(query):
        if row.hash is None:
            return Verdict(checked, row.id, "not sealed although a later entry is: its seal was removed")
        if row.prev_hash != prev:
            return Verdict(checked, row.id, "an entry before it was removed or changed")
        if keys.digest(prev, row) != row.hash:
            return Verdict(checked, row.id, "the entry was changed, or the chain recomputed without the key")
        prev, checked = row.hash, checked + 1
        while anchor is not None and anchor.id <= row.id:
            if anchor.id < row.id:
                return Verdict(checked, anchor.id, "an anchored entry is gone from the chain")
            if anchor.hash != row.hash:
                return Verdict(checked, anchor.id, "an anchored entry has another hash: the chain was rebuilt")
            if anchor.count != checked:
                return Verdict(checked, anchor.id, "the chain up to an anchored entry holds another number of "
                                                   "entries than anchored")
            anchor = next(pending, None)
    if anchor is not None:
        return Verdict(checked, anchor.id, "an anchored entry is gone: entries were removed from the end")
    return Verdict(checked, None)


# --------------------------------------------------------------------------- migrations


def _plain_digest(prev: str, row) -> str:
    """The chain before it was keyed (plain SHA-256), checked once by the migration that keys it."""
    fields = [prev, str(row.id), row.at.isoformat(), row.actor_id or "", row.actor_role or "", row.action,
              row.subject_kind or "", row.subject_id or "", row.detail or "", row.ip or "", row.request_id or ""]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def key_the_chain(connection, name: str = "audit_trail") -> None:
    """Migration step: the chain under the keyed digest, and append-only triggers on SQLite too.

    The old chain (plain SHA-256) is verified first and the verdict kept as an entry of the trail
    (`audit.rechained`), so re-chaining never launders tampering that happened before; then every
    seal is cleared (the PostgreSQL trigger disabled for that statement only) and the worker's sealer
    chains all entries again, from the first, under the key."""
    table = audit_table(MetaData())
    prev, checked, broken = GENESIS, 0, None
    for row in connection.execute(select(table).where(table.c.hash.is_not(None)).order_by(table.c.id)):
        if row.prev_hash != prev or _plain_digest(prev, row) != row.hash:
            broken = row.id
            break
        prev, checked = row.hash, checked + 1
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {name} DISABLE TRIGGER {name}_append_only")
    else:
        for statement in drop_sqlite_append_only_ddl(name):
            connection.exec_driver_sql(statement)
    connection.execute(update(table).where(table.c.hash.is_not(None)).values(hash=None, prev_hash=None))
    if dialect == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {name} ENABLE TRIGGER {name}_append_only")
    for statement in append_only_ddl(name) if dialect == "postgresql" else sqlite_append_only_ddl(name):
        connection.exec_driver_sql(statement)
    if checked == 0 and broken is None:
        return  # nothing was chained before (a new database, or entries not sealed yet): no verdict to keep
    verdict = {"previous_chain": "intact" if broken is None else "broken", "checked": checked}
    if broken is not None:
        verdict["broken_at"] = broken
        log.warning("audit trail: the chain was broken at entry %s before it was keyed (kept in the trail)", broken)
    record(connection, table, SYSTEM, "audit.rechained", detail=verdict)


def unkey_the_chain(connection, name: str = "audit_trail") -> None:
    """The downgrade of `key_the_chain`: seals cleared (the older sealer chains them again) and the
    SQLite triggers dropped, as before."""
    table = audit_table(MetaData())
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {name} DISABLE TRIGGER {name}_append_only")
    else:
        for statement in drop_sqlite_append_only_ddl(name):
            connection.exec_driver_sql(statement)
    connection.execute(update(table).where(table.c.hash.is_not(None)).values(hash=None, prev_hash=None))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {name} ENABLE TRIGGER {name}_append_only")
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}")


# --------------------------------------------------------------------------- the command


def main(argv: list[str] | None = None) -> None:
    import argparse

    from services import spec
    from shared.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m shared.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="recompute a service's audit chain and hold it to its anchored heads")
    check.add_argument("service")
    check.add_argument("--anchor", type=Path, help="an anchor file shipped off the host (default: the local one)")
    name = sub.add_parser("pseudonym", help="the pseudonym a user's concealed acts on a subject carry in a "
                                            "service's trail")
    name.add_argument("service")
    name.add_argument("user_id")
    name.add_argument("subject", help="the entry's subject as kind:id, e.g. case:<id>")
    name.add_argument("expected", nargs="?", help="a pseudonym to compare with (exit 1 when it is another)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "pseudonym":
        found = audit_keys(settings, args.service).pseudonym(args.user_id, args.subject)
        sys.stdout.write(found + "\n")
        if args.expected is not None:
            same = hmac.compare_digest(found, args.expected)
            sys.stdout.write("the same user\n" if same else "another user\n")
            if not same:
                raise SystemExit(1)
        return
    service = spec(args.service)
    rt = service.runtime(settings)
    anchor = Anchor(args.anchor.resolve(), args.service) if args.anchor else Anchor.of(settings, args.service)
    with rt.uow() as session:
        verdict = verify(session, service.audit, rt.audit_keys, anchor.heads())
    rt.dispose()
    if verdict.intact:
        sys.stdout.write(f"{args.service}: audit chain intact ({verdict.checked} entries)\n")
        return
    sys.stdout.write(f"{args.service}: audit chain BROKEN at entry {verdict.broken_at}: {verdict.reason} "
                     f"({verdict.checked} entries before it hold)\n")
    raise SystemExit(1)


if __name__ == "__main__":
    main()
