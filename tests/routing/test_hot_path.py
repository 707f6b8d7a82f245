"""The routing worker's hot path (issue 15): each person's open-order counter kept through every change,
a batch of cases dispatched as one by one would but in a few set-based statements, reference data read
once per transaction, and the counter filled by its migration."""

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from services.routing.models import OPEN_STATUSES, AssigneeLoad, ResponsibilityVersion, Staff, WorkOrder
from shared.events import envelope_for
from shared.events.intake import CaseEvaluated, CaseReopened, CaseSubmitted, CaseWithdrawn
from shared.ids import unit_id

from ..statements import Statements
from .conftest import GRID1, GRID1_CODE, URBAN


def counters(h) -> dict[str, int]:
    with h.rt.uow() as session:
        return {u: n for u, n in session.execute(select(AssigneeLoad.user_id, AssigneeLoad.open_orders)).all()
                if n}


def counted(h) -> dict[str, int]:
    """The truth the counter stands for: each person's open work orders, counted."""
    with h.rt.uow() as session:
        return dict(session.execute(select(WorkOrder.assignee_id, func.count()).where(
            WorkOrder.assignee_id.is_not(None), WorkOrder.status.in_(OPEN_STATUSES)).group_by(WorkOrder.assignee_id))
            .all())


def submitted(case_id: str | None = None) -> bytes:
    return envelope_for(CaseSubmitted(
        case_id=case_id or str(uuid.uuid4()), case_no=f"2026-{uuid.uuid4().int % 10**6:06d}", category="env.garbage",
        channel="app", urgency="一般", matter_class="小事", lon=GRID1[0], lat=GRID1[1], reporter_id="u-resident-1",
        submitted_at=datetime.now(UTC))).to_bytes()


def test_each_persons_open_order_counter_equals_a_count_of_their_open_orders_through_every_change(h):
    now = datetime.now(UTC)
    cases = [h.submit() for _ in range(5)]
    assert counters(h) == counted(h) and sum(counted(h).values()) == 5

    done = h.lead(cases[0])["id"]  # signed for, handled, verified, closed
    for path, who, body in [("sign", "grid", None), ("contact", "grid", None),
                            ("resolve", "grid", {"outcome": "解决到位", "result_text": "已清运"}),
                            ("verify", "community", {"passed": True}), ("close", "street", None)]:
        assert h.post(f"/work-orders/{done}/{path}", who, body).status_code == 200
        assert counters(h) == counted(h), path
    returned = h.lead(cases[1])["id"]  # returned: the community's staff get the case
    body = {"reason": "不属本单位职责", "legal_basis": "职责清单第3条"}
    assert h.post(f"/work-orders/{returned}/return", "grid", body).status_code == 200
    assert counters(h) == counted(h)
    moved = h.lead(cases[2])["id"]  # reassigned to another unit
    assert h.post(f"/work-orders/{moved}/reassign", "street", {"unit_code": URBAN, "reason": "涉及占道经营"}) \
        .status_code == 200
    assert counters(h) == counted(h)
    h.feed(CaseWithdrawn(case_id=cases[3], case_no="x", at=now))  # cancelled
    assert counters(h) == counted(h)
    evaluated = h.lead(cases[4])["id"]  # closed by the evaluation, then reopened
    resolved = {"outcome": "解释到位", "result_text": "已解释"}
    for path, body in [("sign", None), ("contact", None), ("resolve", resolved)]:
        h.post(f"/work-orders/{evaluated}/{path}", "grid", body)
    h.feed(CaseEvaluated(case_id=cases[4], case_no="x", work_order_id=evaluated, solved=False, satisfaction="不满意",
                         at=now))
    assert counters(h) == counted(h)
    h.feed(CaseReopened(case_id=cases[4], case_no="x", at=now))
    assert counters(h) == counted(h)
    assert counted(h) and set(counted(h)) >= {"u-grid-worker-001001", "u-community-staff-001"}


def test_a_batch_spreads_its_cases_over_the_units_staff_as_one_by_one_would(h):
    with h.rt.uow() as session:
        session.add(Staff(user_id="u-grid-worker-001001-b", name="第二网格员", role="grid_worker",
                          unit_id=unit_id(GRID1_CODE), on_duty=True))
    results = h.dispatcher.handle_batch([submitted() for _ in range(6)])
    assert [r.outcome.value for r in results] == ["ack"] * 6
    assert counted(h) == {"u-grid-worker-001001": 3, "u-grid-worker-001001-b": 3} == counters(h)


def test_a_batch_of_cases_is_claimed_inserted_and_committed_in_statements_that_do_not_grow_with_it(h):
    h.submit()  # warm: the grid index
    seen = Statements(h.rt.engine)
    sizes = {}
    for n in (4, 12):
        seen.reset()
        results = h.dispatcher.handle_batch([submitted() for _ in range(n)])
        assert all(r.outcome.value == "ack" and r.reason == "" for r in results)
        inserts = seen.starting("INSERT")
        sizes[n] = {t: sum(1 for s in inserts if s.startswith(f"INSERT INTO {t} ")) for t in
                    ("inbox", "outbox", "routing_cases", "work_orders", "assignee_loads", "audit_trail")}
        assert seen.starting("SAVEPOINT") == [] and seen.commits == 1
    # One statement each for the whole batch, however many cases it holds.
    assert sizes[4] == sizes[12] == {t: 1 for t in sizes[4]}


def test_a_repeated_message_in_a_batch_is_dropped_by_the_one_inbox_insert(h):
    body = submitted()
    h.dispatcher.handle_batch([body])
    seen = Statements(h.rt.engine)
    results = h.dispatcher.handle_batch([body, submitted(), body])
    assert [r.reason for r in results] == ["duplicate delivery", "", "duplicate delivery"]
    assert len(seen.starting("INSERT INTO inbox")) == 1 and seen.starting("SAVEPOINT") == []


def test_the_same_case_twice_in_one_batch_is_dispatched_once(h):
    case_id = str(uuid.uuid4())
    results = h.dispatcher.handle_batch([submitted(case_id), submitted(case_id)])
    assert [r.outcome.value for r in results] == ["ack", "ack"]
    assert len(h.orders(case_id)) == 1


def test_the_responsibility_list_is_read_once_per_batch_and_a_new_version_is_used_at_once(h):
    seen = Statements(h.rt.engine)
    for _ in range(2):
        seen.reset()
        h.dispatcher.handle_batch([submitted() for _ in range(5)])
        assert len([s for s in seen.sql if "max(responsibility_versions.version)" in s]) == 1
    # The version's document was read and parsed once in this process, not again for the second batch.
    assert [s for s in seen.sql if "responsibility_versions.document" in s] == []

    with h.rt.uow() as session:
        doc = session.scalar(select(ResponsibilityVersion.document).where(ResponsibilityVersion.version == 1))
    changed = doc.replace('"level": "grid"', '"level": "community"')
    assert changed != doc
    r = h.post("/responsibility", "supervisor", {"document": json.loads(changed), "note": "小事改由社区承接"})
    assert r.status_code == 201, r.text
    case_id = h.submit()
    order = h.lead(case_id)
    assert order["rule_version"] == 2 and order["unit_code"] != GRID1_CODE


def test_each_point_is_located_once_per_case(h, monkeypatch):
    from services.routing.locator import Locator

    calls = []
    original = Locator.locate
    monkeypatch.setattr(Locator, "locate", lambda self, lon, lat: calls.append((lon, lat)) or original(self, lon, lat))
    h.submit()
    assert calls == [GRID1]


def test_the_migration_fills_the_counter_from_the_orders_open_then(tmp_path):
    from alembic import command

    from shared.db import make_engine
    from shared.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'routing.sqlite'}"
    config = alembic_config("routing", url)
    command.upgrade(config, "routing_0011")
    engine = make_engine(url)
    rows = [("o1", "u-a", "dispatched"), ("o2", "u-a", "signed"), ("o3", "u-a", "closed"), ("o4", "u-b", "resolved"),
            ("o5", "u-b", "returned"), ("o6", None, "dispatched"), ("o7", "u-c", "cancelled")]
    with engine.begin() as conn:
        for oid, who, status in rows:
            conn.execute(text(
                "INSERT INTO work_orders (id, case_id, case_no, unit_id, assignee_id, confidential, category, urgency,"
                " role, kind, status, seq, dispatch_no, designated, reopened, rule, created_at, updated_at, excluded)"
                " VALUES (:id, 'c', '2026-000001', 'u', :who, 0, 'env.garbage', '一般', 'lead', 'work', :status, 1, 1,"
                " 0, 0, 'r', '2026-01-01', '2026-01-01', 0)"), {"id": oid, "who": who, "status": status})
    command.upgrade(config, "routing_0012")
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT user_id, open_orders FROM assignee_loads")).all()) == {"u-a": 2, "u-b": 1}
    engine.dispose()


def test_the_grid_index_is_rebuilt_when_the_directory_changes_and_only_then(h):
    from services.routing import directory
    from services.routing.locator import cached

    with h.rt.uow() as session:
        first = cached(h.rt, session, check_every=0)
    with h.rt.uow() as session:
        assert cached(h.rt, session, check_every=0) is first  # nothing changed: not rebuilt
    with h.rt.uow() as session:
        directory.changed(session)  # what an import does in its transaction
    with h.rt.uow() as session:
        assert cached(h.rt, session, check_every=0) is not first


def test_a_directory_import_raises_the_revision_the_grid_index_follows(h, tmp_path):
    from services.routing import directory, importer

    with h.rt.uow() as session:
        before = directory.revision(session)
        rows = [(1, {"code": "510107001001009", "name": "新网格", "level": "grid", "parent_code": "510107001001000",
                     "households": "10",
                     "wkt": "POLYGON((104.0 30.0, 104.001 30.0, 104.001 30.001, 104.0 30.001, 104.0 30.0))"})]
        report = importer.import_rows(session, rows)
        assert report.ok, report.problems
    with h.rt.uow() as session:
        assert directory.revision(session) == before + 1
