"""Runs each service's Alembic migrations against its own database.

`python -m shared.migrate` migrates every service; `python -m shared.migrate routing` one.
In services mode a missing PostgreSQL database is created first.
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


def upgrade_all(settings: Settings, services: tuple[str, ...] = SERVICES) -> None:
    for service in services:
        upgrade(service, settings.database_url(service))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.migrate")
    parser.add_argument("services", nargs="*", help=f"some of {', '.join(SERVICES)} (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    upgrade_all(get_settings(), tuple(args.services) or SERVICES)


if __name__ == "__main__":
    main()
