"""Routing's staff follow identity's directory: new work goes only to who is there now."""

from datetime import UTC, datetime

from services.routing.models import Staff
from shared.events.identity import UserChanged

from .conftest import GRID1_CODE


def changed(user_id: str, role: str, units: list[str], active: bool = True, kind: str = "staff") -> UserChanged:
    return UserChanged(user_id=user_id, kind=kind, role=role, unit_codes=units, active=active, at=datetime.now(UTC))


def test_a_disabled_member_gets_no_new_work(h):
    h.feed(changed("u-grid-worker-001001", "grid_worker", [GRID1_CODE], active=False))
    with h.rt.uow() as session:
        assert session.get(Staff, "u-grid-worker-001001").on_duty is False
    assert h.lead(h.submit())["assignee_id"] is None  # nobody else on duty in the first grid


def test_a_new_member_joins_the_unit_and_takes_its_work(h):
    h.feed(changed("u-grid-worker-001001", "grid_worker", [GRID1_CODE], active=False))
    h.feed(changed("u-new-grid-worker", "grid_worker", ["no-such-unit", GRID1_CODE]))
    with h.rt.uow() as session:
        new = session.get(Staff, "u-new-grid-worker")
        assert new.on_duty and new.role == "grid_worker" and new.name == ""  # no name travels
    assert h.lead(h.submit())["assignee_id"] == "u-new-grid-worker"


def test_residents_and_members_of_unknown_units_are_not_staff(h):
    h.feed(changed("u-resident-9", "resident", [], kind="resident"))
    h.feed(changed("u-elsewhere", "grid_worker", ["999999999999999"]))
    with h.rt.uow() as session:
        assert session.get(Staff, "u-resident-9") is None and session.get(Staff, "u-elsewhere") is None
