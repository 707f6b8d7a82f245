"""The audit trail every service keeps: append-only, tamper-evident, queried by supervisors.

What is recorded (等保三级 security audit): every state change (each event a request or a handler
emits becomes an entry: who, what, which subject, when, from where, the request id), every read of
a confidential record (a confidential case, a mediation record), every export, every permission or
account change and every sign-in (identity). Entries hold ids and codes, never personal data.

Tamper evidence: each entry carries the hash of the one before (a chain). Requests insert entries
unchained, so auditing never serialises the services' writers; the worker's background `seal`
chains them in id order within seconds, and `verify` recomputes the chain: an entry edited,
deleted or inserted afterwards breaks it at that point. On PostgreSQL a trigger (see
`append_only_ddl`) refuses UPDATE and DELETE of sealed entries, so even the application's own
database role cannot rewrite history without dropping the trigger.

    python -m shared.audit verify routing      # exit 1 and the first broken entry, or "intact"
"""

import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, MetaData, String, Table, Text, func, select, update
from sqlalchemy.orm import Session

from .db import BigIntId, UTCDateTime, utcnow

log = logging.getLogger(__name__)
GENESIS = "0" * 64
SEAL_BATCH = 1000


def audit_table(metadata: MetaData) -> Table:
    table = Table(
        "audit_trail", metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        Column("actor_id", String(64), nullable=True),  # a user, an API key ("key:<id>"), or "system"
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
    return table


def append_only_ddl(table: str = "audit_trail") -> list[str]:
    """PostgreSQL: sealed entries can be neither changed nor deleted (run by each migration)."""
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR OLD.hash IS NOT NULL THEN
            RAISE EXCEPTION 'audit entries are append-only';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]


@dataclass(frozen=True)
class Actor:
    """Who is acting, where from, in which request: what every entry of a unit of work shares."""

    id: str | None = None
    role: str | None = None
    ip: str | None = None
    request_id: str | None = None


SYSTEM = Actor(id="system")


def record(session: Session, table: Table, actor: Actor | None, action: str, *, subject_kind: str | None = None,
           subject_id: str | None = None, detail: dict | None = None, at: datetime | None = None) -> None:
    actor = actor or SYSTEM
    session.execute(table.insert().values(
        at=at or utcnow(), actor_id=actor.id, actor_role=actor.role, action=action[:80], subject_kind=subject_kind,
        subject_id=None if subject_id is None else str(subject_id)[:64],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else None,
        ip=actor.ip, request_id=actor.request_id))


def _digest(prev: str, row) -> str:
    fields = [prev, str(row.id), row.at.isoformat(), row.actor_id or "", row.actor_role or "", row.action,
              row.subject_kind or "", row.subject_id or "", row.detail or "", row.ip or "", row.request_id or ""]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def seal(session: Session, table: Table, limit: int = SEAL_BATCH) -> int:
    """Chain the unsealed entries in id order; returns how many. One sealer at a time (row lock on
    the last sealed entry's successor is not enough: an advisory lock on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(0x5EA1_0A0D)))
    last = session.execute(select(table.c.hash).where(table.c.hash.is_not(None))
                           .order_by(table.c.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    rows = session.execute(select(table).where(table.c.hash.is_(None)).order_by(table.c.id).limit(limit)).all()
    for row in rows:
        digest = _digest(prev, row)
        session.execute(update(table).where(table.c.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    return len(rows)


@dataclass(frozen=True)
class Verdict:
    checked: int
    broken_at: int | None  # the id of the first entry whose chain does not hold
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(session: Session, table: Table) -> Verdict:
    prev, checked = GENESIS, 0
    query = select(table).where(table.c.hash.is_not(None)).order_by(table.c.id).execution_options(yield_per=5000)
    for row in session.execute(query):
        if row.prev_hash != prev:
            return Verdict(checked, row.id, "an entry before it was removed or changed")
        if _digest(prev, row) != row.hash:
            return Verdict(checked, row.id, "the entry was changed")
        prev, checked = row.hash, checked + 1
    return Verdict(checked, None)


def main(argv: list[str] | None = None) -> None:
    import argparse

    from services import spec
    from shared.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m shared.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="recompute a service's audit chain")
    check.add_argument("service")
    args = parser.parse_args(argv)
    service = spec(args.service)
    rt = service.runtime(get_settings())
    with rt.uow() as session:
        verdict = verify(session, service.audit)
    rt.dispose()
    if verdict.intact:
        sys.stdout.write(f"{args.service}: audit chain intact ({verdict.checked} entries)\n")
        return
    sys.stdout.write(f"{args.service}: audit chain BROKEN at entry {verdict.broken_at}: {verdict.reason} "
                     f"({verdict.checked} entries before it hold)\n")
    raise SystemExit(1)


if __name__ == "__main__":
    main()
