"""Clocks: which profile a case is on (the stricter of its urgency's and its category's), 预警 at
75 % and 超期 at 100 % fired once each, and the case counter the scanner shares with the API."""

import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from services.routing import config
from services.routing.clocks import profile_for, scan
from services.routing.models import RoutingCase, WorkOrder
from services.routing.service import SPEC
from shared.config import get_settings
from shared.db import utcnow
from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH, CaseUrgencyChanged
from shared.migrate import upgrade

from .conftest import Harness, scanned

INTAKE_PROFILES = ("general", "utility", "life_safety", "complex", "mediation")  # intake's catalogue names


def fire(h, at):
    return [(e.event_type.rsplit(".", 1)[1], e.clock) for e in scanned(h, at)]


def change_urgency(h, case_id: str, urgency: str, previous: str) -> None:
    h.feed(CaseUrgencyChanged(case_id=case_id, case_no="x", urgency=urgency, previous=previous, by_id="u-operator-1",
                              at=datetime.now(UTC)))


# ----------------------------------------------------------------------------- which profile


def test_the_stricter_of_the_urgencys_and_the_categorys_profile_applies_and_the_category_wins_a_tie():
    assert profile_for("utility.water", "特急", "utility") == "特急"  # the urgency is stricter
    assert profile_for("utility.water", "一般", None) == "紧急"  # the category's map is stricter
    assert profile_for("utility.gas", "紧急", None) == "特急"  # the exact code beats the prefix
    assert profile_for("env.garbage", "一般", "complex") == "complex"  # a tie: the category's
    assert profile_for("env.garbage", "紧急", "complex") == "紧急"
    assert profile_for("env.garbage", "一般", "life_safety") == "特急"
    assert profile_for("env.garbage", "紧急", None) == "紧急"  # no category profile: the urgency's
    assert profile_for("env.garbage", "一般", "mediation") == "一般"


def test_an_unknown_requested_profile_falls_back_to_the_category_and_the_urgency():
    assert profile_for("utility.water", "一般", "no_such_profile") == "紧急"
    assert profile_for("env.garbage", "紧急", "no_such_profile") == "紧急"
    assert profile_for("env.garbage", "一般", "no_such_profile") == "一般"


def test_a_life_safety_urgency_beats_the_utility_profile_intake_requested_at_dispatch(h):
    order = h.lead(h.submit(category="utility.water", matter_class="大事", urgency="特急", clock_profile="utility"))
    assert order["clock_profile"] == "特急"
    sign = datetime.fromisoformat(order["deadlines"]["sign"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    assert sign - created == timedelta(minutes=15)


def test_a_complex_matter_stays_on_its_complex_clocks_at_an_ordinary_urgency(h):
    order = h.lead(h.submit(category="facility.road", matter_class="大事", clock_profile="complex"))
    assert order["clock_profile"] == "complex"


def test_an_unknown_requested_profile_at_dispatch_is_ignored(h):
    order = h.lead(h.submit(category="utility.water", matter_class="大事", clock_profile="no_such_profile"))
    assert order["clock_profile"] == "紧急"


def test_a_raised_urgency_puts_the_open_order_on_the_stricter_clocks(h):
    case_id = h.submit()
    order = h.lead(case_id)
    before = h.get(order["id"])["deadlines"]["sign"]
    change_urgency(h, case_id, "特急", "一般")
    after = h.get(order["id"])
    sign = datetime.fromisoformat(after["deadlines"]["sign"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(after["created_at"].replace("Z", "+00:00"))
    # Timed from the change (a moment after dispatch here), never into the past.
    assert timedelta(minutes=15) <= sign - created < timedelta(minutes=16) and after["deadlines"]["sign"] != before
    assert "urgency" in [t["kind"] for t in after["timeline"]]
    clocks = {c["kind"]: c for c in after["clocks"]}
    assert clocks["sign"]["deadline"] == after["deadlines"]["sign"]


def test_an_urgency_raised_then_lowered_back_returns_to_the_categorys_profile(h):
    case_id = h.submit(category="utility.water", matter_class="大事")
    oid = h.lead(case_id)["id"]
    assert h.get(oid)["clock_profile"] == "紧急"
    change_urgency(h, case_id, "特急", "一般")
    assert h.get(oid)["clock_profile"] == "特急"
    change_urgency(h, case_id, "一般", "特急")
    assert h.get(oid)["clock_profile"] == "紧急"

    complex_case = h.submit(category="facility.road", matter_class="大事", clock_profile="complex")
    oid = h.lead(complex_case)["id"]
    change_urgency(h, complex_case, "紧急", "一般")
    assert h.get(oid)["clock_profile"] == "紧急"
    change_urgency(h, complex_case, "一般", "紧急")
    assert h.get(oid)["clock_profile"] == "complex"


def test_an_urgency_raised_after_dispatch_times_the_stricter_clock_from_the_change_not_into_the_past(h):
    from services.routing import clocks
    from services.routing.models import Clock, RoutingCase

    case_id = h.submit()  # 一般: sign within a working day
    oid = h.lead(case_id)["id"]
    created = datetime.fromisoformat(h.get(oid)["created_at"].replace("Z", "+00:00"))
    changed_at = created + timedelta(minutes=15)  # dispatched 14:35, raised to 特急 at 14:50
    with h.rt.uow() as session:
        clocks.change_urgency(session, case_id, "特急", "一般", "u-operator-1", changed_at)
    after = h.get(oid)
    sign = datetime.fromisoformat(after["deadlines"]["sign"].replace("Z", "+00:00"))
    assert sign == changed_at + timedelta(minutes=15)  # not created + 15 min: overdue at once
    assert ("overdue", "sign") not in fire(h, changed_at + timedelta(seconds=1))
    with h.rt.uow() as session:
        clock = session.query(Clock).filter_by(work_order_id=oid, kind="sign").one()
        assert clock.overdue is False and clock.deadline == sign

    # An old deadline earlier than the change plus the new duration stays: a raise never loosens.
    urgent = h.submit(urgency="紧急")  # sign within 30 minutes
    oid = h.lead(urgent)["id"]
    old = datetime.fromisoformat(h.get(oid)["deadlines"]["sign"].replace("Z", "+00:00"))
    with h.rt.uow() as session:
        assert session.get(RoutingCase, urgent) is not None
        clocks.change_urgency(session, urgent, "特急", "紧急", "u-operator-1", old - timedelta(minutes=10))
    after = h.get(oid)
    assert after["clock_profile"] == "特急"
    assert datetime.fromisoformat(after["deadlines"]["sign"].replace("Z", "+00:00")) == old


# ----------------------------------------------------------------------------- the configuration


def test_every_profile_name_of_intakes_catalogue_is_known():
    known = config.get().clocks.known_profile_names()
    assert set(INTAKE_PROFILES) <= known
    assert {"特急", "紧急", "一般", "complex"} <= known


def test_a_requested_name_mapped_to_no_profile_is_refused():
    raw = json.loads((config.DEFAULT_DIR / "clocks.json").read_text(encoding="utf-8"))
    raw["requested_profiles"]["general"] = "no_such_profile"
    with pytest.raises(ValidationError, match="requested_profiles.general"):
        config.Clocks.model_validate(raw)


def test_a_broken_configuration_file_stops_start_up(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(config.DEFAULT_DIR, data)
    clocks = json.loads((data / "clocks.json").read_text(encoding="utf-8"))
    clocks["warn_ratio"] = 1.5
    (data / "clocks.json").write_text(json.dumps(clocks, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_ROUTING_DATA_DIR", str(data))
    with pytest.raises(ValidationError, match="warn_ratio"):
        SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), f"sqlite:///{tmp_path / 'r.sqlite'}")


# ----------------------------------------------------------------------------- firing


def test_an_urgent_order_warns_then_goes_overdue_exactly_once_per_clock(h):
    case_id = h.submit(category="utility.gas", matter_class="大事", urgency="特急")
    order = h.lead(case_id)
    assert order["clock_profile"] == "特急"
    start = utcnow()
    assert fire(h, start) == []
    assert fire(h, start + timedelta(minutes=12)) == [("warned", "sign")]  # 75 % of 15 minutes
    assert fire(h, start + timedelta(minutes=12)) == []  # never twice
    assert fire(h, start + timedelta(minutes=16)) == [("overdue", "sign")]
    assert fire(h, start + timedelta(minutes=23)) == [("warned", "contact")]
    # The scanner was down for hours: the stale warnings are skipped, each overdue fires once.
    assert sorted(fire(h, start + timedelta(hours=3))) == [("overdue", "contact"), ("overdue", "result"), ]
    assert fire(h, start + timedelta(hours=4)) == []
    dispatched, *events = [p for _, p in h.events()]
    assert [p.seq for p in events] == sorted(p.seq for p in events)
    assert all(p.assignee_id == order["assignee_id"] for p in events)
    # Every message about it can tell it is urgent (notify lets 特急 through quiet hours).
    assert dispatched.urgency == "特急" and all(p.urgency == "特急" for p in events)
    assert [t["kind"] for t in h.get(order["id"])["timeline"]].count("overdue") == 3


def test_a_signed_order_has_no_sign_alarm_and_signing_late_is_recorded(h):
    oid = h.lead(h.submit(category="utility.gas", matter_class="大事", urgency="特急"))["id"]
    with h.rt.uow() as session:
        session.get(WorkOrder, oid).sign_deadline = utcnow() - timedelta(seconds=1)
    r = h.post(f"/work-orders/{oid}/sign", "street")  # no gas company in the demo: 大事 goes to the street
    assert r.status_code == 200 and r.json()["late"]["sign"] is True
    assert fire(h, utcnow() + timedelta(minutes=14)) == []  # the sign clock stopped
    assert fire(h, utcnow() + timedelta(minutes=23)) == [("warned", "contact")]


def test_the_scanner_takes_the_next_case_seq_while_an_api_change_holds_the_case(pg_database, tmp_path):
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), pg_database)
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    try:
        h = Harness(rt)
        case_id = h.submit(category="utility.gas", matter_class="大事", urgency="特急")
        with rt.uow() as session:
            start = session.get(RoutingCase, case_id).seq
        held = threading.Event()

        def api_change():  # another transition of the same case, committing a moment later
            with rt.uow() as session:
                rc = session.get(RoutingCase, case_id, with_for_update=True)
                rc.seq += 1
                held.set()
                time.sleep(0.5)

        t = threading.Thread(target=api_change)
        t.start()
        held.wait(5)
        events = []
        with rt.uow() as session:
            scan(session, events.append, utcnow() + timedelta(minutes=12))
        t.join()
        assert [e.seq for e in events] == [start + 2]
        with rt.uow() as session:
            assert session.get(RoutingCase, case_id).seq == start + 2
            assert session.scalar(select(WorkOrder.seq).where(WorkOrder.case_id == case_id)) == start + 2
    finally:
        rt.dispose()


def test_a_clock_profile_name_as_long_as_intake_may_send_is_kept_on_postgresql(pg_database, tmp_path, monkeypatch):
    """Intake's catalogue names a profile in up to 40 characters and routing may define it by that name; the
    case and its work order kept it in 20, which only PostgreSQL enforced: the case was never dispatched."""
    longest = "c" * CLOCK_PROFILE_MAX_LENGTH
    data = tmp_path / "data"
    shutil.copytree(config.DEFAULT_DIR, data)
    clocks = json.loads((data / "clocks.json").read_text(encoding="utf-8"))
    clocks["profiles"][longest] = clocks["profiles"].pop("complex")
    clocks["requested_profiles"]["complex"] = longest
    (data / "clocks.json").write_text(json.dumps(clocks, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_ROUTING_DATA_DIR", str(data))
    upgrade("routing", pg_database)
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), pg_database)
    SPEC.seed(rt)
    try:
        h = Harness(rt)
        case_id = h.submit(clock_profile=longest)
        with rt.uow() as session:
            assert session.get(RoutingCase, case_id).clock_profile == longest
        assert h.lead(case_id)["clock_profile"] == longest
    finally:
        rt.dispose()
