"""Intake on its own: its app on a fresh SQLite database, and its event dispatcher, so tests can
deliver routing's and mediation's events exactly as the bus would (as envelopes, through the inbox)."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.intake.service import SPEC
from shared.auth import demo_token, issue_token
from shared.config import get_settings
from shared.events import envelope_for
from shared.migrate import upgrade

GRID_POINT = {"lat": 30.6283, "lon": 104.052115}
NEAR = {"lat": 30.6284, "lon": 104.0522}  # about 15 m from GRID_POINT


@dataclass
class Intake:
    settings: object
    rt: object
    client: TestClient
    dispatcher: object

    def auth(self, role: str, user_id: str | None = None, lang: str | None = None) -> dict:
        token = issue_token(self.settings, user_id, role) if user_id else demo_token(self.settings, role)
        headers = {"Authorization": f"Bearer {token}"}
        if lang:
            headers["Accept-Language"] = lang
        return headers

    def submit(self, role: str = "resident", user_id: str | None = None, expect: int = 201, headers=None,
               **body) -> dict:
        payload = {"category": "env.garbage", "description": "小区东门垃圾桶三天没有清运，气味很大。",
                   **GRID_POINT, **body}
        r = self.client.post("/intake/v1/cases", json=payload, headers={**self.auth(role, user_id),
                                                                         **(headers or {})})
        assert r.status_code == expect, r.text
        return r.json()

    def get(self, case_id: str, role: str = "resident", user_id: str | None = None) -> dict:
        r = self.client.get(f"/intake/v1/cases/{case_id}", headers=self.auth(role, user_id))
        assert r.status_code == 200, r.text
        return r.json()

    def deliver(self, payload) -> str:
        result = self.dispatcher.handle(envelope_for(payload).to_bytes())
        return result.outcome.value

    def events(self, event_type: str) -> list[dict]:
        table = SPEC.outbox
        with self.rt.engine.connect() as conn:
            rows = conn.execute(select(table.c.body).where(table.c.routing_key == f"{event_type}.v1")
                                .order_by(table.c.id)).all()
        return [json.loads(r.body) for r in rows]


def _intake(tmp_path, url: str):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    upgrade("intake", url)
    rt = SPEC.runtime(settings, url)
    yield Intake(settings, rt, TestClient(SPEC.app(rt)), SPEC.dispatcher(rt))
    rt.dispose()


@pytest.fixture
def intake(tmp_path):
    yield from _intake(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite'}")


@pytest.fixture
def pg_intake(tmp_path, pg_database):
    """Intake on PostgreSQL, for the races SQLite's one writer at a time cannot show."""
    yield from _intake(tmp_path, pg_database)


def at(minute: int) -> datetime:
    """A fixed moment in the future, so events sort after the case's submission."""
    return datetime(2099, 1, 1, 8, minute, tzinfo=UTC)


def work_order(case: dict, seq: int, wo: str = "wo-1", unit: str = "玉林北路社区第一网格", minute: int = 0) -> dict:
    return dict(case_id=case["id"], case_no=case["case_no"], work_order_id=wo, seq=seq, unit_id=f"unit-{unit}",
                unit_name=unit, at=at(minute or seq))


def new_id() -> str:
    return str(uuid.uuid4())
