"""A seeded routing service on SQLite, its API, and helpers to feed it intake's events."""

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from services.routing.service import SPEC
from shared.auth import issue_token
from shared.config import get_settings
from shared.events import decode, envelope_for
from shared.events.intake import CaseSubmitted

GRID1 = (104.052115, 30.6283)  # 玉林北路社区第一网格 510107001001001
GRID1_CODE, COMMUNITY1, STREET, DISTRICT = "510107001001001", "510107001001000", "510107001000000", "510107000000000"
URBAN, POLICE, HOUSING, ENV, WATER = ("510107900001000", "510107900002000", "510107900004000", "510107900005000",
                                      "510107900006000")
USERS = {
    "grid": ("u-grid-worker-001001", "grid_worker", GRID1_CODE),
    "community": ("u-community-staff-001", "community_staff", COMMUNITY1),
    "street": ("u-street-dispatcher-1", "street_dispatcher", STREET),
    "supervisor": ("u-supervisor-1", "supervisor", DISTRICT),
    "street_supervisor": ("u-supervisor-2", "supervisor", STREET),
    "admin": ("u-admin-1", "admin", DISTRICT),
    "urban": ("u-department-handler-900001", "department_handler", URBAN),
    "police": ("u-department-handler-900002", "department_handler", POLICE),
    "water": ("u-department-handler-900006", "department_handler", WATER),
    "env": ("u-department-handler-900005", "department_handler", ENV),
    "other_grid": ("u-grid-worker-001002", "grid_worker", "510107001001002"),
}


class Harness:
    def __init__(self, rt):
        self.rt = rt
        self.client = TestClient(SPEC.app(rt))
        self.dispatcher = SPEC.dispatcher(rt)

    def headers(self, who: str, lang: str | None = None) -> dict:
        uid, role, unit = USERS[who]
        h = {"Authorization": "Bearer " + issue_token(self.rt.settings, uid, role, unit)}
        if lang:
            h["Accept-Language"] = lang
        return h

    def feed(self, payload) -> None:
        result = self.dispatcher.handle(envelope_for(payload).to_bytes())
        assert result.outcome.value == "ack", result.reason

    def submit(self, category="env.garbage", matter_class="小事", point=GRID1, urgency="一般", **kw) -> str:
        case_id = str(uuid.uuid4())
        self.feed(CaseSubmitted(case_id=case_id, case_no=f"2026-{uuid.uuid4().int % 10**6:06d}", category=category,
                                channel="app", urgency=urgency, matter_class=matter_class,
                                lon=point[0] if point else None, lat=point[1] if point else None,
                                reporter_id="u-resident-1", submitted_at=datetime.now(UTC), **kw))
        return case_id

    def events(self, drain: bool = True) -> list:
        """The events routing emitted so far (outbox order), removed from the outbox when drained."""
        table = SPEC.outbox
        with self.rt.engine.begin() as conn:
            rows = conn.execute(select(table.c.id, table.c.body).order_by(table.c.id)).all()
            if drain:
                conn.execute(delete(table))
        return [decode(r.body.encode()) for r in rows]

    def orders(self, case_id: str) -> list[dict]:
        from services.routing.models import WorkOrder

        with self.rt.uow() as session:
            ids = session.scalars(select(WorkOrder.id).where(WorkOrder.case_id == case_id)
                                  .order_by(WorkOrder.created_at, WorkOrder.seq)).all()
        return [self.get(i) for i in ids]

    def lead(self, case_id: str) -> dict:
        from services.routing.models import RoutingCase

        with self.rt.uow() as session:
            order_id = session.get(RoutingCase, case_id).lead_work_order_id
        return self.get(order_id)

    def get(self, order_id: str, who: str = "supervisor") -> dict:
        r = self.client.get(f"/routing/v1/work-orders/{order_id}", headers=self.headers(who))
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, who: str, body: dict | None = None, lang: str | None = None):
        return self.client.post(f"/routing/v1{path}", json=body, headers=self.headers(who, lang))


@pytest.fixture
def h(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    rt = SPEC.runtime(settings, f"sqlite:///{tmp_path / 'routing.sqlite'}")
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    yield Harness(rt)
    rt.dispose()


def scanned(h, at) -> list:
    """Run the clock scanner as if it were `at`; the payloads it emitted."""
    from services.routing.clocks import scan

    fired = []
    with h.rt.unit_of_work() as uow:
        def emit(payload):
            fired.append(payload)
            return uow.emit(payload)

        scan(uow.session, emit, at)
    return fired
