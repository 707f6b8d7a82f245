"""A mediation service on a fresh SQLite database, migrated and seeded with the demo committees."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.mediation.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings
from shared.migrate import upgrade


@pytest.fixture
def rt(tmp_path):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    upgrade("mediation", settings.database_url("mediation"))
    runtime = SPEC.runtime(settings)
    SPEC.seed(runtime)
    yield runtime
    runtime.dispose()


@pytest.fixture
def client(rt):
    return TestClient(SPEC.app(rt))


def auth(rt, user_id: str, role: str = "mediator") -> dict:
    return {"Authorization": f"Bearer {issue_token(rt.settings, user_id, role)}"}


def events(rt, event_type: str | None = None) -> list[dict]:
    """The events mediation emitted, in order (from its outbox)."""
    table = SPEC.outbox
    with rt.uow() as session:
        rows = session.execute(select(table.c.body).order_by(table.c.id)).scalars().all()
    envs = [json.loads(b) for b in rows]
    return [e for e in envs if event_type is None or e["type"] == event_type]
