"""Clocks fire 预警 at 75 % and 超期 at 100 %, once each; 吹哨报到 within its deadline."""

from datetime import timedelta

from services.routing.clocks import scan
from services.routing.models import Whistle, WorkOrder
from shared.db import utcnow

from .conftest import STREET, URBAN


def fire(h, at):
    with h.rt.uow() as session:
        events = scan(session, at)
        for e in events:
            h.rt.outbox.emit(session, e)
    return [(e.event_type.rsplit(".", 1)[1], e.clock) for e in events]


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
    events = [p for _, p in h.events()][1:]
    assert [p.seq for p in events] == sorted(p.seq for p in events)
    assert all(p.assignee_id == order["assignee_id"] for p in events)
    assert [t["kind"] for t in h.get(order["id"])["timeline"]].count("overdue") == 3


def test_a_signed_order_has_no_sign_alarm_and_signing_late_is_recorded(h):
    oid = h.lead(h.submit(category="utility.gas", matter_class="大事", urgency="特急"))["id"]
    with h.rt.uow() as session:
        session.get(WorkOrder, oid).sign_deadline = utcnow() - timedelta(seconds=1)
    r = h.post(f"/work-orders/{oid}/sign", "street")  # no gas company in the demo: 大事 goes to the street
    assert r.status_code == 200 and r.json()["late"]["sign"] is True
    assert fire(h, utcnow() + timedelta(minutes=14)) == []  # the sign clock stopped
    assert fire(h, utcnow() + timedelta(minutes=23)) == [("warned", "contact")]


def test_whistle_report_and_late_report(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]  # lands on the street
    assert h.lead(h.submit(category="safety.other", matter_class="大事"))["unit_code"] == STREET
    h.post(f"/work-orders/{oid}/sign", "street")
    h.events()
    r = h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN, "510107900002000"]})
    assert r.status_code == 200
    [(env, escalated)] = h.events()
    assert env.type == "routing.case.escalated" and len(escalated.department_unit_ids) == 2
    assert timedelta(minutes=29) < escalated.report_deadline - escalated.at <= timedelta(minutes=30)

    r = h.post(f"/work-orders/{oid}/report", "urban")
    assert r.status_code == 200
    [(env, reported)] = h.events()
    assert env.type == "routing.case.reported" and reported.late is False
    assert h.post(f"/work-orders/{oid}/report", "urban").json()["error"]["code"] == "whistle.already_reported"
    assert h.post(f"/work-orders/{oid}/report", "water").json()["error"]["code"] == "whistle.not_called"

    with h.rt.uow() as session:  # the police arrive after the deadline
        for w in session.query(Whistle).filter(Whistle.reported_at.is_(None)):
            w.deadline = utcnow() - timedelta(minutes=1)
    assert h.post(f"/work-orders/{oid}/report", "police").status_code == 200
    [(_, late)] = h.events()
    assert late.late is True
    detail = h.get(oid)
    assert sorted(w["late"] for w in detail["whistles"]) == [False, True]
    assists = [o for o in h.orders(detail["case_id"]) if o["role"] == "assist"]
    assert {o["unit_code"] for o in assists} == {URBAN, "510107900002000"}
    assert all(o["status"] == "signed" for o in assists)


def test_whistling_a_grid_is_refused(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    r = h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": ["510107001001001"]})
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "unit.not_department", "message": "只能向职能部门或公共服务企业吹哨", "field": "department_codes.0"}


def test_a_raised_urgency_puts_the_open_order_on_the_stricter_clocks(h):
    from datetime import UTC, datetime, timedelta

    from shared.events.intake import CaseUrgencyChanged

    case_id = h.submit()
    order = h.lead(case_id)
    before = h.get(order["id"])["deadlines"]["sign"]
    h.feed(CaseUrgencyChanged(case_id=case_id, case_no="x", urgency="特急", previous="一般", by_id="u-operator-1",
                              at=datetime.now(UTC)))
    after = h.get(order["id"])
    sign = datetime.fromisoformat(after["deadlines"]["sign"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(after["created_at"].replace("Z", "+00:00"))
    assert sign - created == timedelta(minutes=15) and after["deadlines"]["sign"] != before
    assert "urgency" in [t["kind"] for t in after["timeline"]]
    clocks = {c["kind"]: c for c in after["clocks"]}
    assert clocks["sign"]["deadline"] == after["deadlines"]["sign"]
