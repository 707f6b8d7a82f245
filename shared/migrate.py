"""Runs each service's Alembic migrations against its own database.

`python -m shared.migrate` migrates every service; `python -m shared.migrate routing` one.
In services mode a missing PostgreSQL database is created first. `--check` changes nothing: it exits 1
while a service's database lacks a migration of this code (a Kubernetes pod's init container waits on
it, so a new release starts only once its migration Job has run: docs/operations.md).
"""

import argparse
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from .config import SERVICES, Settings, get_settings

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
log = logging.getLogger(__name__)


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("version_table", f"alembic_version_{service}")
    return cfg


def ensure_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def upgrade(service: str, url: str) -> None:
    ensure_database(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url), "head")


def missing(service: str, url: str) -> list[str]:
    """The migrations of this code not yet applied to the service's database (none when it is at its
    head, or ahead of it: a revision this code does not know came from a newer release)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    cfg = alembic_config(service, url)
    script = ScriptDirectory.from_config(cfg)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": f"alembic_version_{service}"})
            current = set(context.get_current_heads())
    finally:
        engine.dispose()
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        return []
    applied = {rev.revision for rev in script.iterate_revisions(tuple(current), "base")} if current else set()
    return sorted(known - applied)


def upgrade_all(settings: Settings, services: tuple[str, ...] = SERVICES) -> None:
    for service in services:
        upgrade(service, settings.database_url(service))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.migrate")
    parser.add_argument("services", nargs="*", help=f"some of {', '.join(SERVICES)} (default: all)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 while a migration is missing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings, services = get_settings(), tuple(args.services) or SERVICES
    if not args.check:
        upgrade_all(settings, services)
        return
    behind = []
    for service in services:
        try:
            todo = missing(service, settings.database_url(service))
        except Exception as exc:  # no database yet, or it does not answer: not migrated, as far as we can tell
            todo = [f"database unreachable ({type(exc).__name__})"]
        if todo:
            behind.append(f"{service}: {', '.join(todo)}")
    if behind:
        raise SystemExit("not migrated yet: " + "; ".join(behind))
    log.info("migrated: %s", ", ".join(services))


if __name__ == "__main__":
    main()
