"""吹哨报到: departments called to a work order report within their deadline, once, and join it."""

from datetime import timedelta

from sqlalchemy import select

from services.routing.models import Whistle
from shared.db import utcnow

from .conftest import STREET, URBAN


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
    # A department never whistled for the order does not learn it exists (issue 11: was 403 not_called).
    r = h.post(f"/work-orders/{oid}/report", "water")
    assert r.status_code == 404 and r.json()["error"]["code"] == "workorder.not_found"

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


def test_the_same_department_cannot_be_whistled_twice_on_one_order(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    assert h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]}).status_code == 200
    assert h.post(f"/work-orders/{oid}/report", "urban").status_code == 200
    h.events()
    r = h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "whistle.already_called"
    assert r.json()["error"]["field"] == "department_codes.0"
    with h.rt.uow() as session:
        assert len(session.scalars(select(Whistle).where(Whistle.work_order_id == oid)).all()) == 1
    assert h.events() == []


def test_a_department_cannot_join_an_order_that_is_already_closed(h):
    case_id = h.submit(category="safety.other", matter_class="大事")
    oid = h.lead(case_id)["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    h.post(f"/work-orders/{oid}/contact", "street")
    h.post(f"/work-orders/{oid}/resolve", "street", {"outcome": "解决到位", "result_text": "街道已处理"})
    assert h.post(f"/work-orders/{oid}/close", "street").status_code == 200
    h.events()
    r = h.post(f"/work-orders/{oid}/report", "urban")
    assert r.status_code == 409 and r.json()["error"]["code"] == "workorder.illegal_transition"
    assert [o["role"] for o in h.orders(case_id)] == ["lead"] and h.events() == []


def test_a_whistled_department_reporting_is_not_told_who_the_requester_is(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    h.post(f"/work-orders/{oid}/sign", "street")
    h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    r = h.post(f"/work-orders/{oid}/report", "urban")
    assert r.status_code == 200 and r.json()["requester_id"] is None
    assert "u-resident-1" not in r.text


def test_a_department_that_reads_an_order_but_was_not_whistled_for_it_cannot_report(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    # The police handle the order themselves (it was reassigned to them): they read it, and were
    # never whistled for it.
    r = h.post(f"/work-orders/{oid}/reassign", "street", {"unit_code": "510107900002000", "reason": "改由公安办理"})
    police_order = r.json()["id"]
    assert h.post(f"/work-orders/{police_order}/sign", "police").status_code == 200
    r = h.post(f"/work-orders/{police_order}/report", "police")
    assert r.status_code == 403 and r.json()["error"]["code"] == "whistle.not_called"


def test_a_whistled_department_finds_the_order_it_must_report_to_in_its_own_list(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]  # lands on the street
    h.post(f"/work-orders/{oid}/sign", "street")
    assert h.client.get("/routing/v1/work-orders/mine", headers=h.headers("urban")).json()["items"] == []
    assert h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]}).status_code == 200
    mine = h.client.get("/routing/v1/work-orders/mine", headers=h.headers("urban")).json()["items"]
    assert [(o["id"], o["whistled"]) for o in mine] == [(oid, True)]
    # Nobody else's list: another department, and the street's own order is not marked whistled.
    assert h.client.get("/routing/v1/work-orders/mine", headers=h.headers("water")).json()["items"] == []
    street = h.client.get("/routing/v1/work-orders/mine", headers=h.headers("street")).json()["items"]
    assert [(o["id"], o["whistled"]) for o in street] == [(oid, False)]
    # Once reported, the department works on its own assisting order instead.
    assert h.post(f"/work-orders/{oid}/report", "urban").status_code == 200
    mine = h.client.get("/routing/v1/work-orders/mine", headers=h.headers("urban")).json()["items"]
    assert [(o["role"], o["whistled"]) for o in mine] == [("assist", False)]
