"""Routing on the demo district: locating a point and dispatching a new case."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.routing import config
from services.routing.dispatch import dispatch_submitted
from services.routing.locator import Locator
from services.routing.models import Staff, Unit, WorkOrder
from services.routing.service import SPEC
from shared.config import get_settings
from shared.events import decode, envelope_for
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched
from shared.ids import unit_id

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo"
FEATURES = json.loads((DEMO / "org.geojson").read_text(encoding="utf-8"))["features"]
USERS = json.loads((DEMO / "users.json").read_text(encoding="utf-8"))
GRIDS = [f["properties"] for f in FEATURES if f["properties"]["level"] == "grid"]
DISTRICT = next(f["properties"] for f in FEATURES if f["properties"]["level"] == "district")
STREET = next(f["properties"] for f in FEATURES if f["properties"]["level"] == "street")
GRID_WORKER = {u["unit_code"]: u["id"] for u in USERS if u["role"] == "grid_worker"}
SUPERVISOR = next(u["id"] for u in USERS if u["role"] == "supervisor")


@pytest.fixture
def rt(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    runtime = SPEC.runtime(settings, f"sqlite:///{tmp_path / 'routing.sqlite'}")
    SPEC.metadata.create_all(runtime.engine)
    SPEC.seed(runtime)
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def locator(tmp_path_factory) -> Locator:
    """Read-only: one seeded directory for the module's locating and dispatching tests."""
    path = tmp_path_factory.mktemp("locator")
    runtime = SPEC.runtime(get_settings(var_dir=path, mode="embedded"), f"sqlite:///{path / 'routing.sqlite'}")
    SPEC.metadata.create_all(runtime.engine)
    SPEC.seed(runtime)
    with runtime.uow() as session:
        loaded = Locator.load(session)
    runtime.dispose()
    return loaded


def case(lon: float | None = None, lat: float | None = None, **kwargs) -> CaseSubmitted:
    values = dict(case_id=str(uuid.uuid4()), case_no=f"202405-{uuid.uuid4().int % 10**6:06d}",
                  category="环境卫生", channel="app", lat=lat, lon=lon, reporter_id="u-resident-1",
                  submitted_at=datetime(2024, 5, 6, tzinfo=UTC))
    values.update(kwargs)
    return CaseSubmitted(**values)


def dispatch_in(uow, locator, event: CaseSubmitted) -> CaseDispatched | None:
    """The lead's dispatched event of a new case (the last one emitted), None when it was already dispatched."""
    emitted = []

    def emit(payload):
        emitted.append(payload)
        return uow.emit(payload)

    dispatch_submitted(uow.session, emit, locator, event)
    return emitted[-1] if emitted else None


def dispatch(rt, locator, event: CaseSubmitted) -> CaseDispatched | None:
    with rt.unit_of_work() as uow:
        return dispatch_in(uow, locator, event)


def add_staff(rt, user_id: str, unit_code: str, *, role: str = "grid_worker", on_duty: bool = True) -> None:
    with rt.uow() as session:
        session.add(Staff(user_id=user_id, name="测试", role=role, unit_id=unit_id(unit_code),
                          on_duty=on_duty))


def set_on_duty(rt, user_id: str, on_duty: bool) -> None:
    with rt.uow() as session:
        session.get(Staff, user_id).on_duty = on_duty


def open_orders(rt, assignee: str) -> int:
    with rt.uow() as session:
        return session.scalar(select(func.count()).select_from(WorkOrder)
                              .where(WorkOrder.assignee_id == assignee, WorkOrder.status == "dispatched"))


# --------------------------------------------------------------------------- the seed


def test_the_seed_loads_every_unit_and_every_staff_member_once(rt):
    with rt.uow() as session:
        units = {u.code: u for u in session.scalars(select(Unit))}
        staff = {s.user_id: s for s in session.scalars(select(Staff))}
    assert set(units) == {f["properties"]["code"] for f in FEATURES}
    assert units[DISTRICT["code"]].parent_id is None and units[DISTRICT["code"]].depth == 0
    assert all(units[g["code"]].depth == 3 for g in GRIDS)
    assert set(staff) == {u["id"] for u in USERS if u["role"] != "resident"}

    SPEC.seed(rt)  # a second run adds nothing
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Unit)) == len(FEATURES)


# --------------------------------------------------------------------------- locating


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g["code"])
def test_every_grid_hint_locates_that_grid_first(locator, grid):
    lon, lat = grid["centroid_hint"]
    hits = locator.locate(lon, lat)
    assert hits[0].code == grid["code"]
    assert hits[0].level == "grid"
    # Then its community, the street and the district, finest first.
    assert [h.level for h in hits] == ["grid", "community", "street", "district"]
    assert hits[1].code == grid["parent_code"]
    assert [h.depth for h in hits] == [3, 2, 1, 0]


def test_the_district_hint_locates_the_district_and_no_grid(locator):
    lon, lat = DISTRICT["centroid_hint"]
    hits = locator.locate(lon, lat)
    assert [h.code for h in hits] == [DISTRICT["code"]]
    assert all(h.level != "grid" for h in hits)


def test_a_point_outside_the_district_locates_nothing(locator):
    assert locator.locate(116.397, 39.909) == []  # Beijing


def test_a_point_on_a_shared_border_goes_to_the_lower_code(locator):
    # This vertex is shared by the first two grids of both communities.
    hits = locator.locate(104.0566, 30.6301)
    grids = [h.code for h in hits if h.level == "grid"]
    assert len(grids) >= 2
    assert hits[0].code == min(grids)


def test_departments_have_no_area_and_are_never_located(locator):
    assert all(u.level != "department" for u in locator.units)
    assert len(locator.units) == sum(1 for f in FEATURES if f["geometry"])


# --------------------------------------------------------------------------- dispatching


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g["code"])
def test_a_case_in_a_grid_goes_to_that_grids_worker(rt, locator, grid):
    lon, lat = grid["centroid_hint"]
    event = case(lon, lat, urgency="紧急")

    out = dispatch(rt, locator, event)

    assert out is not None
    assert out.unit_code == grid["code"]
    assert out.unit_level == "grid"
    assert out.unit_name == grid["name"]
    assert out.assignee_id == GRID_WORKER[grid["code"]]
    assert grid["code"] in out.rule
    assert out.rule.startswith("属地派单")
    assert out.case_id == event.case_id and out.case_no == event.case_no
    assert out.requester_id == "u-resident-1"
    assert out.seq == 1
    with rt.uow() as session:
        order = session.get(WorkOrder, out.work_order_id)
        assert order.case_id == event.case_id
        assert order.unit_id == unit_id(grid["code"]) == out.unit_id
        assert order.assignee_id == out.assignee_id
        assert order.status == "dispatched"
        assert order.urgency == "紧急"
        assert order.rule == out.rule
    # The event it produces is a valid, registered event.
    _, decoded = decode(envelope_for(out).to_bytes())
    assert decoded == out


def test_a_case_at_the_district_hint_falls_back_to_the_district(rt, locator):
    lon, lat = DISTRICT["centroid_hint"]
    out = dispatch(rt, locator, case(lon, lat))
    assert out is not None
    assert out.unit_code == DISTRICT["code"]
    assert out.unit_level == "district"
    assert "不在任何网格内" in out.rule
    assert DISTRICT["code"] in out.rule
    assert out.assignee_id == SUPERVISOR  # the district's handler role
    assert config.get().levels.handler_role("district") == "supervisor"


def test_a_case_outside_the_district_falls_back_to_the_root(rt, locator):
    out = dispatch(rt, locator, case(116.397, 39.909))
    assert out is not None
    assert out.unit_code == DISTRICT["code"]
    assert out.rule.startswith("兜底")
    assert "不在辖区内" in out.rule


@pytest.mark.parametrize(("lon", "lat"), [(None, None), (104.052115, None), (None, 30.6283)])
def test_a_case_without_coordinates_falls_back_to_the_root_unit(rt, locator, lon, lat):
    out = dispatch(rt, locator, case(lon, lat))
    assert out is not None
    assert out.unit_code == DISTRICT["code"]
    assert out.unit_level == "district"
    assert out.rule.startswith("兜底")
    assert "未提供位置" in out.rule
    assert DISTRICT["code"] in out.rule
    assert out.assignee_id == SUPERVISOR


def test_an_anonymous_case_has_no_requester(rt, locator):
    lon, lat = GRIDS[0]["centroid_hint"]
    out = dispatch(rt, locator, case(lon, lat, reporter_id=None))
    assert out.requester_id is None


def test_a_second_dispatch_of_the_same_case_returns_none(rt, locator):
    lon, lat = GRIDS[0]["centroid_hint"]
    event = case(lon, lat)
    assert dispatch(rt, locator, event) is not None

    assert dispatch(rt, locator, event) is None
    # Even from a different point: the case already has its work order.
    moved = event.model_copy(update={"lon": GRIDS[3]["centroid_hint"][0], "lat": GRIDS[3]["centroid_hint"][1]})
    assert dispatch(rt, locator, moved) is None
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(WorkOrder)
                              .where(WorkOrder.case_id == event.case_id)) == 1


def test_a_second_dispatch_in_the_same_transaction_returns_none(rt, locator):
    lon, lat = GRIDS[0]["centroid_hint"]
    event = case(lon, lat)
    with rt.unit_of_work() as uow:
        assert dispatch_in(uow, locator, event) is not None
        assert dispatch_in(uow, locator, event) is None


def test_the_least_loaded_on_duty_worker_gets_the_case(rt, locator):
    grid = GRIDS[0]
    lon, lat = grid["centroid_hint"]
    first = GRID_WORKER[grid["code"]]
    second = "u-zz-grid-worker-extra"  # sorts after the first: the tie-break alone would pick the first
    assert second > first

    # The first worker already has open work.
    for _ in range(2):
        assert dispatch(rt, locator, case(lon, lat)).assignee_id == first
    add_staff(rt, second, grid["code"])

    a = dispatch(rt, locator, case(lon, lat))
    assert a.assignee_id == second
    b = dispatch(rt, locator, case(lon, lat))
    assert b.assignee_id == second  # 2 vs 1: still the second
    c = dispatch(rt, locator, case(lon, lat))
    assert c.assignee_id == first  # 2 vs 2: the tie goes to the lower user id
    assert open_orders(rt, first) == 3 and open_orders(rt, second) == 2


def test_closed_work_does_not_count_as_load(rt, locator):
    grid = GRIDS[0]
    lon, lat = grid["centroid_hint"]
    first = GRID_WORKER[grid["code"]]
    second = "u-zz-grid-worker-extra"
    add_staff(rt, second, grid["code"])
    out = dispatch(rt, locator, case(lon, lat))
    assert out.assignee_id == first
    with rt.uow() as session:
        session.get(WorkOrder, out.work_order_id).status = "closed"
    assert dispatch(rt, locator, case(lon, lat)).assignee_id == first


def test_an_off_duty_worker_is_never_chosen(rt, locator):
    grid = GRIDS[1]
    lon, lat = grid["centroid_hint"]
    worker = GRID_WORKER[grid["code"]]
    set_on_duty(rt, worker, False)

    # Alone in the grid: nobody is assigned rather than the off-duty worker.
    out = dispatch(rt, locator, case(lon, lat))
    assert out.unit_code == grid["code"]
    assert out.assignee_id is None

    # With an on-duty colleague who has more open work, the colleague still gets it.
    colleague = "u-zz-colleague"
    add_staff(rt, colleague, grid["code"])
    for _ in range(3):
        assert dispatch(rt, locator, case(lon, lat)).assignee_id == colleague
    assert open_orders(rt, worker) == 0

    # Back on duty and with no open work, the worker is chosen again.
    set_on_duty(rt, worker, True)
    assert dispatch(rt, locator, case(lon, lat)).assignee_id == worker


def test_staff_of_another_role_or_unit_is_not_chosen(rt, locator):
    grid = GRIDS[2]
    lon, lat = grid["centroid_hint"]
    set_on_duty(rt, GRID_WORKER[grid["code"]], False)
    add_staff(rt, "u-a-mediator", grid["code"], role="mediator")  # wrong role for a grid
    add_staff(rt, "u-a-worker-elsewhere", GRIDS[3]["code"])  # right role, other grid
    out = dispatch(rt, locator, case(lon, lat))
    assert out.assignee_id is None


def test_an_empty_directory_cannot_dispatch(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    rt = SPEC.runtime(settings, f"sqlite:///{tmp_path / 'empty.sqlite'}")
    SPEC.metadata.create_all(rt.engine)
    try:
        with rt.uow() as session:
            locator = Locator.load(session)
        with pytest.raises(LookupError):
            dispatch(rt, locator, case())
    finally:
        rt.dispose()


def test_the_routing_handler_dispatches_and_emits(rt):
    dispatcher = SPEC.dispatcher(rt)
    lon, lat = GRIDS[4]["centroid_hint"]
    incoming = envelope_for(case(lon, lat), correlation_id="req-1")

    result = dispatcher.handle(incoming.to_bytes())
    again = dispatcher.handle(incoming.to_bytes())

    assert result.outcome.value == "ack" and again.outcome.value == "ack"
    with rt.engine.connect() as conn:
        rows = conn.execute(select(SPEC.outbox.c.body)).scalars().all()
    assert len(rows) == 1
    env, payload = decode(rows[0].encode())
    assert env.causation_id == incoming.id and env.correlation_id == "req-1"
    assert payload.unit_code == GRIDS[4]["code"]
    assert payload.assignee_id == GRID_WORKER[GRIDS[4]["code"]]
