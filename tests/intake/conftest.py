"""Intake on its own: its app on a fresh SQLite database, and its event dispatcher, so tests can
deliver routing's and mediation's events exactly as the bus would (as envelopes, through the inbox)."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import or_, select

from services.intake.service import SPEC
from shared.auth import access_claims, demo_token, demo_users, sign
from shared.config import get_settings
from shared.events import envelope_for
from shared.events.routing import CaseContacted, CaseDispatched, CaseResolved, CaseSigned
from shared.keys import blind_index, signing_keys
from shared.migrate import upgrade
from shared.phones import normalise

# Points as a GPS gives them: every point a client sends says its coordinate system.
GRID_POINT = {"lat": 30.6283, "lon": 104.052115, "coord_system": "wgs84"}
NEAR = {"lat": 30.6284, "lon": 104.0522, "coord_system": "wgs84"}  # about 15 m from GRID_POINT

# The demo organisation (deploy/demo): where routing places GRID_POINT, as its events say.
DISTRICT, STREET = "510107000000000", "510107001000000"
COMMUNITY, GRID = "510107001001000", "510107001001001"
STREET_PATH = f"/{DISTRICT}/{STREET}/"
GRID_PATH = f"{STREET_PATH}{COMMUNITY}/{GRID}/"


@dataclass
class Intake:
    settings: object
    rt: object
    client: TestClient
    dispatcher: object

    def auth(self, role: str, user_id: str | None = None, lang: str | None = None, *, phone: str | None = None,
             units: tuple[str, ...] | None = None) -> dict:
        """A token of the role: the first demo user of it, or `user_id` (with the demo user's unit when
        there is one of that id; `units` to give others, all of them in the token); `phone`: the
        resident's phone as identity verified it."""
        if units is not None or phone is not None or user_id is not None:
            demo = {u["id"]: u for u in demo_users(self.settings)}
            uid = user_id or next(u["id"] for u in demo.values() if u["role"] == role)
            if units is None:
                unit = demo.get(uid, {}).get("unit_code")
                units = (unit,) if unit else ()
            claims = access_claims(self.settings, user_id=uid, role=role, unit_codes=units,
                                   session_id=f"dev-{uuid.uuid4()}",
                                   phone_index=blind_index(self.settings)(normalise(phone, mobile=True), "phone")
                                   if phone else None)
            token = sign(claims, signing_keys(self.settings).active)
        else:
            token = demo_token(self.settings, role)
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

    def get(self, case_id: str, role: str = "resident", user_id: str | None = None, **who) -> dict:
        r = self.client.get(f"/intake/v1/cases/{case_id}", headers=self.auth(role, user_id, **who))
        assert r.status_code == 200, r.text
        return r.json()

    def deliver(self, payload) -> str:
        result = self.dispatcher.handle(envelope_for(payload).to_bytes())
        return result.outcome.value

    def events(self, event_type: str) -> list[dict]:
        table = SPEC.outbox
        with self.rt.engine.connect() as conn:
            key = f"{event_type}.v1"  # and its topic words after it, if its type has some
            rows = conn.execute(select(table.c.body).where(or_(table.c.routing_key == key,
                                                               table.c.routing_key.startswith(f"{key}.")))
                                .order_by(table.c.id)).all()
        return [json.loads(r.body) for r in rows]


def _intake(tmp_path, url: str, **settings_overrides):
    settings = get_settings(mode="embedded", var_dir=tmp_path, **settings_overrides)
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


def dispatched(case, seq=1, wo="wo-1", unit="玉林北路社区第一网格", minute=0, role="lead", unit_path=GRID_PATH,
               area_path=STREET_PATH):
    return CaseDispatched(**work_order(case, seq, wo, unit, minute), unit_code=unit_path.split("/")[-2],
                          unit_level="grid", rule=f"网格 {GRID} 包含该点", role=role, unit_path=unit_path,
                          area_path=area_path)


def resolve(intake, case, wo="wo-1", seq=4):
    assert intake.deliver(dispatched(case, 1, wo)) == "ack"
    intake.deliver(CaseSigned(**work_order(case, 2, wo), actor_id="u-grid-worker-001001"))
    intake.deliver(CaseContacted(**work_order(case, 3, wo), actor_id="u-grid-worker-001001"))
    intake.deliver(CaseResolved(**work_order(case, seq, wo), actor_id="u-grid-worker-001001", outcome="解决到位",
                                result_text="已安排环卫车清运"))


def shown_text(value) -> str:
    """The words a view shows, without its ids, numbers and timestamps: those may hold any run of digits (a
    uuid's "502", a timestamp's microseconds "…5678…"), so a check for a house number or the end of a phone
    number must not look at them."""
    if isinstance(value, dict):
        return " ".join(shown_text(v) for k, v in value.items()
                        if k not in ("id", "at", "case_no") and not k.endswith(("_id", "_ids", "_at", "_no")))
    if isinstance(value, list):
        return " ".join(shown_text(v) for v in value)
    return value if isinstance(value, str) else ""
