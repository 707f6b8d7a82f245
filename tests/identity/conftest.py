"""Identity on a fresh SQLite database, migrated and seeded with the demo users (embedded mode:
staff have the demo password)."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.identity.service import SPEC
from shared.config import get_settings
from shared.migrate import upgrade


@pytest.fixture
def rt(tmp_path):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    upgrade("identity", settings.database_url("identity"))
    runtime = SPEC.runtime(settings)
    SPEC.seed(runtime)
    yield runtime
    runtime.dispose()


@pytest.fixture
def client(rt):
    app = SPEC.app(rt)
    # Revocations and API keys are re-read on every check (in production within refresh_seconds).
    app.state.verifier.state.refresh_seconds = 0
    return TestClient(app)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def events(rt, event_type: str | None = None) -> list[dict]:
    """The events identity emitted, in order (from its outbox)."""
    table = SPEC.outbox
    with rt.uow() as session:
        rows = session.execute(select(table.c.body).order_by(table.c.id)).scalars().all()
    envs = [json.loads(b) for b in rows]
    return [e for e in envs if event_type is None or e["type"] == event_type]
