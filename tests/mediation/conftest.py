"""A mediation service on a fresh SQLite database, migrated and seeded with the demo committees."""

import json
from functools import cache

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.mediation.service import SPEC
from shared.auth import demo_users, issue_token
from shared.config import get_settings
from shared.migrate import upgrade


def runtime_for(tmp_path, **settings):
    """Mediation on a fresh database with its demo data (settings overridden for a test's needs)."""
    settings = get_settings(mode="embedded", var_dir=tmp_path, **settings)
    upgrade("mediation", settings.database_url("mediation"))
    runtime = SPEC.runtime(settings)
    SPEC.seed(runtime)
    return runtime


@pytest.fixture
def rt(tmp_path):
    runtime = runtime_for(tmp_path)
    yield runtime
    runtime.dispose()


@pytest.fixture
def client(rt):
    return TestClient(SPEC.app(rt))


# The phones the test residents verified by SMS at identity (their tokens carry its keyed hash): a party
# registered with one of these is that resident once she signs in.
PHONES = {"u-resident-1": "13800000001", "u-resident-2": "13900001111", "u-resident-3": "13800000003"}




@cache
def demo_units() -> dict[str, str]:
    """Each demo staff member's unit (deploy/demo/users.json), as identity puts it in their tokens."""
    return {u["id"]: u["unit_code"] for u in demo_users(get_settings()) if u.get("unit_code")}


def auth(rt, user_id: str, role: str = "mediator", phone: str | None = None) -> dict:
    if role == "resident" and phone is None:
        phone = PHONES.get(user_id)
    unit = demo_units().get(user_id) if role != "resident" else None
    return {"Authorization": f"Bearer {issue_token(rt.settings, user_id, role, unit, phone=phone)}"}


def events(rt, event_type: str | None = None) -> list[dict]:
    """The events mediation emitted, in order (from its outbox)."""
    table = SPEC.outbox
    with rt.uow() as session:
        rows = session.execute(select(table.c.body).order_by(table.c.id)).scalars().all()
    envs = [json.loads(b) for b in rows]
    return [e for e in envs if event_type is None or e["type"] == event_type]
