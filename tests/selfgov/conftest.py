"""A selfgov service on a fresh SQLite database, migrated and seeded with the demo directory and roster."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.selfgov.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings
from shared.migrate import upgrade

COMMUNITY = "510107001001000"  # 玉林北路社区 (the demo roster's)
OTHER_COMMUNITY = "510107001002000"  # 玉林东路社区
STREET = "510107001000000"
# The demo roster (seed.py): three representatives (刘淑芬, 杨晓燕, 王德明) and five households.
PHONES = {"u-resident-1": "13800000001", "u-resident-2": "13800000002", "u-resident-3": "13800000003",
          "u-rep-4": "13900000011", "u-resident-5": "13900000012", "u-outsider": "13700000099"}
UNITS = {"u-community-staff-001": COMMUNITY, "u-community-staff-002": OTHER_COMMUNITY,
         "u-street-1": STREET, "u-supervisor-2": STREET, "u-admin-1": None, "u-grid-worker-001001": "510107001001001",
         "u-operator-1": "510107000000000"}


def runtime_for(tmp_path, **settings):
    settings = get_settings(mode="embedded", var_dir=tmp_path, **settings)
    upgrade("selfgov", settings.database_url("selfgov"))
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


def auth(rt, user_id: str, role: str = "resident") -> dict:
    phone = PHONES.get(user_id) if role == "resident" else None
    unit = UNITS.get(user_id) if role != "resident" else None
    return {"Authorization": f"Bearer {issue_token(rt.settings, user_id, role, unit, phone=phone)}"}


def staff(rt, user_id: str = "u-community-staff-001") -> dict:
    return auth(rt, user_id, "community_staff")


def events(rt, event_type: str | None = None) -> list[dict]:
    """The events selfgov emitted, in order (from its outbox)."""
    table = SPEC.outbox
    with rt.uow() as session:
        rows = session.execute(select(table.c.body).order_by(table.c.id)).scalars().all()
    envs = [json.loads(b) for b in rows]
    return [e for e in envs if event_type is None or e["type"] == event_type]


@pytest.fixture
def counted_one_by_one(monkeypatch):
    """Each rating counted by the next scan (release_batch 1): for tests of the figures, not of the batches."""
    from services.selfgov import config

    cfg = config.get()
    one = cfg.model_copy(update={"rating": cfg.rating.model_copy(update={"release_batch": 1})})
    monkeypatch.setattr(config, "get", lambda: one)
