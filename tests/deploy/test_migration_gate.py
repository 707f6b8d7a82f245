"""`python -m shared.migrate --check`, the gate every Kubernetes pod's init container waits on: it fails
while a service's database lacks a migration of the code, and passes once the migration Job ran, or when a
newer release already migrated further."""

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, text

from shared.migrate import missing, upgrade

from .manifests import ROOT


@pytest.fixture
def prefix(pg_url):
    """A database prefix of this test's own (CG_DB_PREFIX); its databases are dropped afterwards."""
    prefix = f"cg_g{uuid.uuid4().hex[:8]}_"
    yield prefix
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)):
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def check(pg_url: str, prefix: str, service: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CG_MODE": "services", "CG_PG_URL": pg_url, "CG_DB_PREFIX": prefix}
    return subprocess.run([sys.executable, "-m", "shared.migrate", "--check", service], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.postgres
def test_the_gate_holds_until_the_database_is_migrated_and_opens_after(pg_url, prefix):
    url = f"{pg_url}/{prefix}mediation"
    refused = check(pg_url, prefix, "mediation")  # no database yet
    assert refused.returncode == 1 and "not migrated yet: mediation" in refused.stderr

    upgrade("mediation", url)
    assert missing("mediation", url) == []
    assert check(pg_url, prefix, "mediation").returncode == 0

    engine = create_engine(url)
    with engine.begin() as conn:  # as if the database were one release behind
        head = conn.execute(text("SELECT version_num FROM alembic_version_mediation")).scalar_one()
        conn.execute(text("UPDATE alembic_version_mediation SET version_num = 'mediation_0001'"))
    assert head in missing("mediation", url) and "mediation_0001" not in missing("mediation", url)
    behind = check(pg_url, prefix, "mediation")
    assert behind.returncode == 1 and head in behind.stderr

    with engine.begin() as conn:  # a later release migrated further: this code's pods may still start
        conn.execute(text("UPDATE alembic_version_mediation SET version_num = 'mediation_9999_from_the_future'"))
    engine.dispose()
    assert missing("mediation", url) == []
