"""The grid service on a fresh SQLite database, migrated and seeded with the demo grids and register."""

import json
from functools import cache

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.grid.service import SPEC
from shared.auth import demo_users, issue_token
from shared.config import get_settings
from shared.migrate import upgrade

P = "/grid/v1"
WORKER = "u-grid-worker-001001"  # 玉林北路社区第一网格
GRID = "510107001001001"
GRID_2 = "510107001001002"
# Inside grid 1 (its centroid), WGS-84.
HERE = (30.6283, 104.052115)


def runtime_for(tmp_path, **settings):
    settings = get_settings(mode="embedded", var_dir=tmp_path, **settings)
    upgrade("grid", settings.database_url("grid"))
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


@cache
def demo_units() -> dict[str, str]:
    return {u["id"]: u["unit_code"] for u in demo_users(get_settings()) if u.get("unit_code")}


ROLES = {"u-grid-worker": "grid_worker", "u-community-staff": "community_staff", "u-street-dispatcher":
         "street_dispatcher", "u-department-handler": "department_handler", "u-supervisor": "supervisor",
         "u-admin": "admin", "u-operator": "operator", "u-mediator": "mediator", "u-resident": "resident"}


def auth(rt, user_id: str) -> dict:
    role = next(r for prefix, r in ROLES.items() if user_id.startswith(prefix))
    unit = demo_units().get(user_id) if role != "resident" else None
    return {"Authorization": f"Bearer {issue_token(rt.settings, user_id, role, unit)}"}


def events(rt, event_type: str | None = None) -> list[dict]:
    with rt.uow() as session:
        rows = session.execute(select(SPEC.outbox.c.body).order_by(SPEC.outbox.c.id)).scalars().all()
    return [e for e in (json.loads(b) for b in rows) if event_type is None or e["type"] == event_type]
