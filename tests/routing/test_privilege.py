"""Least privilege in routing (issue 11): every unit a token names counts; mediators and residents
read no work orders; departments read what they were whistled for without the requester; phones
and ID numbers typed into free text are masked for readers below supervisors; exports, confidential
reads and changes that emit no event are on the audit trail; the ledger export is rate-limited;
edge values are 422s, and the OpenAPI document says what the endpoints really answer."""

import csv
import io
import json
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from services.routing.models import WorkOrder
from services.routing.service import SPEC
from shared.auth import access_claims, issue_token, sign
from shared.config import get_settings, local_zone
from shared.keys import signing_keys

from .conftest import COMMUNITY1, DISTRICT, GRID1_CODE, STREET, URBAN, Harness

COMMUNITY2 = "510107001002000"
PHONE, ID_NUMBER = "13912345678", "510107199001011234"
V1 = "/routing/v1"


def token(h, uid: str, role: str, *units: str) -> dict:
    """A token naming several units (a roster may give staff more than one)."""
    claims = access_claims(h.rt.settings, user_id=uid, role=role, unit_codes=list(units),
                           session_id=f"s-{uuid.uuid4()}")
    return {"Authorization": "Bearer " + sign(claims, signing_keys(h.rt.settings).active)}


def as_user(h, uid: str, role: str, unit: str | None) -> dict:
    return {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}


def this_month() -> str:
    return datetime.now(local_zone()).strftime("%Y-%m")


def trail(h, action: str) -> list:
    with h.rt.uow() as session:
        return session.execute(select(h.rt.audit).where(h.rt.audit.c.action == action)
                               .order_by(h.rt.audit.c.id)).all()


# --------------------------------------------------------------------------- scopes


def test_every_unit_a_token_names_counts_in_reads_writes_lists_and_statistics(h):
    oid = h.lead(h.submit())["id"]  # grid 1, community 1
    only_second = as_user(h, "u-community-staff-9", "community_staff", COMMUNITY2)
    both = token(h, "u-community-staff-9", "community_staff", COMMUNITY2, COMMUNITY1)
    assert h.client.get(f"{V1}/work-orders/{oid}", headers=only_second).status_code == 404
    assert h.client.get(f"{V1}/work-orders/{oid}", headers=both).status_code == 200
    rows = h.client.get(f"{V1}/scores", params={"period": this_month()}, headers=both).json()["rows"]
    assert [r["code"] for r in rows] == [GRID1_CODE]
    assert h.client.get(f"{V1}/scores", params={"period": this_month()}, headers=only_second).json()["rows"] == []
    ledger = h.client.get(f"{V1}/ledger", headers=both)
    assert oid in ledger.text
    assert h.client.get(f"{V1}/ledger", params={"unit_code": GRID1_CODE}, headers=both).status_code == 200
    # A grid worker of two grids handles the work of both.
    two_grids = token(h, "u-grid-worker-9", "grid_worker", "510107001001002", GRID1_CODE)
    assert h.client.post(f"{V1}/work-orders/{oid}/sign", headers=two_grids).status_code == 200
    one_grid = as_user(h, "u-grid-worker-9", "grid_worker", "510107001001002")
    h2 = h.lead(h.submit())["id"]
    assert h.client.post(f"{V1}/work-orders/{h2}/sign", headers=one_grid).status_code == 404


def test_mediators_and_residents_read_no_work_orders(h):
    oid = h.lead(h.submit())["id"]
    for who in (as_user(h, "u-mediator-1", "mediator", COMMUNITY1),
                as_user(h, "u-med-wy-001", "mediator", STREET),
                as_user(h, "u-resident-1", "resident", None)):
        r = h.client.get(f"{V1}/work-orders/{oid}", headers=who)
        assert r.status_code == 404 and r.json()["error"]["code"] == "workorder.not_found"
        assert "u-resident-1" not in r.text
        for path in ("/work-orders/mine", "/supervision/overdue", "/ledger", "/watch-list"):
            assert h.client.get(f"{V1}{path}", headers=who).status_code == 403, path
        assert h.client.get(f"{V1}/scores", params={"period": this_month()}, headers=who).status_code == 403
        assert h.client.post(f"{V1}/work-orders/{oid}/sign", headers=who).status_code == 403


def test_a_street_mediator_can_no_longer_sign_the_streets_orders(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]  # lands on the street
    r = h.client.post(f"{V1}/work-orders/{oid}/sign", headers=as_user(h, "u-med-wy-001", "mediator", STREET))
    assert r.status_code == 403 and r.json()["error"]["code"] == "auth.forbidden"


def test_a_department_reads_its_own_orders_and_those_it_was_whistled_for_without_the_requester(h):
    oid = h.lead(h.submit(category="safety.other", matter_class="大事"))["id"]
    urban = h.headers("urban")
    assert h.client.get(f"{V1}/work-orders/{oid}", headers=urban).status_code == 404
    h.post(f"/work-orders/{oid}/sign", "street")
    h.post(f"/work-orders/{oid}/whistle", "street", {"department_codes": [URBAN]})
    r = h.client.get(f"{V1}/work-orders/{oid}", headers=urban)
    assert r.status_code == 200 and r.json()["requester_id"] is None and "u-resident-1" not in r.text
    assert h.get(oid, "street")["requester_id"] == "u-resident-1"  # the lead unit calls back
    assert h.client.get(f"{V1}/work-orders/{oid}", headers=h.headers("police")).status_code == 404
    # It may read the order, not act on it as its handler.
    r = h.client.post(f"{V1}/work-orders/{oid}/contact", headers=urban)
    assert r.status_code == 403 and r.json()["error"]["code"] == "workorder.not_yours"


def test_an_order_in_another_unit_is_404_for_every_action_and_a_role_that_may_never_act_is_403(h):
    oid = h.lead(h.submit())["id"]
    other = as_user(h, "u-supervisor-x", "supervisor", COMMUNITY2)
    for path, body in (("supervise", {"note": "越权督办"}), ("exclusion", {"reason": "越权"}),
                       ("reassign", {"unit_code": URBAN, "reason": "越权改派"})):
        r = h.client.post(f"{V1}/work-orders/{oid}/{path}", json=body, headers=other)
        assert r.status_code == 404 and r.json()["error"]["code"] == "workorder.not_found", path
    r = h.post(f"/work-orders/{oid}/supervise", "grid", {"note": "越权督办"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "auth.forbidden"


def test_an_extension_of_an_order_in_another_subtree_is_not_found(h):
    oid = h.lead(h.submit())["id"]
    h.post(f"/work-orders/{oid}/sign", "grid")
    ext = h.post(f"/work-orders/{oid}/extensions", "grid", {"working_days": 2, "reason": "需协调物业"}).json()["id"]
    other = as_user(h, "u-supervisor-x", "supervisor", COMMUNITY2)
    r = h.client.post(f"{V1}/extensions/{ext}/decision", json={"approve": True}, headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "extension.not_found"


def test_the_scoped_read_and_lock_work_on_postgresql(pg_database, tmp_path):
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), pg_database)
    SPEC.metadata.create_all(rt.engine)
    SPEC.seed(rt)
    try:
        h = Harness(rt)
        oid = h.lead(h.submit())["id"]
        assert h.post(f"/work-orders/{oid}/sign", "other_grid").status_code == 404
        assert h.post(f"/work-orders/{oid}/sign", "grid").status_code == 200
        two = token(h, "u-community-staff-9", "community_staff", COMMUNITY2, COMMUNITY1)
        assert h.client.get(f"{V1}/work-orders/{oid}", headers=two).status_code == 200
        assert h.client.get(f"{V1}/scores", params={"period": this_month()}, headers=two).status_code == 200
    finally:
        rt.dispose()


# --------------------------------------------------------------------------- personal data in free text


def test_phones_and_id_numbers_typed_into_free_text_are_masked_below_supervisors(h):
    oid = h.lead(h.submit())["id"]
    h.post(f"/work-orders/{oid}/sign", "grid")
    h.post(f"/work-orders/{oid}/contact", "grid", {"note": f"已联系，居民电话 {PHONE}"})
    h.post(f"/work-orders/{oid}/resolve", "grid", {"outcome": "解决到位",
                                                   "result_text": f"已清运；身份证 {ID_NUMBER}，电话 {PHONE}"})
    h.post(f"/work-orders/{oid}/exclusion", "supervisor", {"reason": f"诉求人 {PHONE} 要求超出政策范围"})
    for who in ("grid", "community", "street"):
        r = h.client.get(f"{V1}/work-orders/{oid}", headers=h.headers(who))
        assert PHONE not in r.text and ID_NUMBER not in r.text, who
        assert "139****5678" in r.json()["result_text"] and "5101**********1234" in r.json()["result_text"]
        contacted = [t for t in r.json()["timeline"] if t["kind"] == "contacted"][0]
        assert contacted["detail"]["note"] == "已联系，居民电话 139****5678"
    full = h.get(oid, "supervisor")
    assert PHONE in full["result_text"] and ID_NUMBER in full["result_text"] and PHONE in full["exclusion_reason"]
    # The ledger likewise: a community sees the reason masked, a supervisor as written.
    community = h.client.get(f"{V1}/ledger", headers=h.headers("community")).content.decode("utf-8-sig")
    assert PHONE not in community and "139****5678" in community
    assert PHONE in h.client.get(f"{V1}/ledger", headers=h.headers("supervisor")).content.decode("utf-8-sig")


def test_the_requester_stays_hidden_on_confidential_and_assisting_orders_for_every_reader(h):
    conf = h.lead(h.submit(confidential=True))["id"]
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    assist = next(o for o in h.orders(case_id) if o["role"] == "assist")["id"]
    for who, oid in (("supervisor", conf), ("street", conf), ("community", conf), ("grid", conf),
                     ("supervisor", assist), ("street", assist)):
        r = h.client.get(f"{V1}/work-orders/{oid}", headers=h.headers(who))
        assert r.status_code == 200 and r.json()["requester_id"] is None, (who, oid)


# --------------------------------------------------------------------------- audit


def test_a_confidential_orders_detail_read_is_on_the_trail_an_ordinary_one_is_not(h):
    with h.rt.uow() as session:
        conf, plain = (session.scalar(select(WorkOrder.id).where(WorkOrder.case_id == case_id))
                       for case_id in (h.submit(confidential=True), h.submit()))
    h.get(plain, "community")
    assert trail(h, "read.work_order") == []
    h.get(conf, "community")
    [entry] = trail(h, "read.work_order")
    assert (entry.actor_id, entry.subject_kind, entry.subject_id) == ("u-community-staff-001", "work_order", conf)
    assert "u-resident-1" not in (entry.detail or "")


def test_every_ledger_export_is_on_the_trail_with_its_filters_and_row_count(h):
    for _ in range(2):
        h.submit()
    r = h.client.get(f"{V1}/ledger", params={"format": "xlsx", "period": this_month(), "unit_code": COMMUNITY1,
                                             "status": "dispatched", "limit": 5}, headers=h.headers("community"))
    assert r.status_code == 200
    [entry] = trail(h, "export.ledger")
    assert (entry.actor_id, entry.actor_role, entry.subject_id) == ("u-community-staff-001", "community_staff",
                                                                    COMMUNITY1)
    assert json.loads(entry.detail) == {"format": "xlsx", "period": this_month(), "unit_code": COMMUNITY1,
                                        "status": "dispatched", "category": None, "limit": 5, "rows": 2,
                                        "truncated": False}


def test_changes_that_emit_no_event_are_on_the_trail(h):
    oid = h.lead(h.submit())["id"]
    h.post(f"/work-orders/{oid}/exclusion", "supervisor", {"reason": "诉求人要求超出政策范围"})
    h.client.put(f"{V1}/staff/u-grid-worker-001001/duty", json={"on_duty": False}, headers=h.headers("street"))
    h.post(f"/work-orders/{oid}/sign", "grid")
    ext = h.post(f"/work-orders/{oid}/extensions", "grid", {"working_days": 2, "reason": "需协调物业"}).json()["id"]
    h.post(f"/extensions/{ext}/decision", "supervisor", {"approve": False})
    [excluded] = trail(h, "routing.work_order.excluded")
    assert (excluded.actor_id, excluded.subject_id) == ("u-supervisor-1", oid)
    assert "诉求人" not in excluded.detail  # the reason stays on the order's timeline
    [duty] = trail(h, "routing.staff.duty_changed")
    assert (duty.actor_id, duty.subject_id, json.loads(duty.detail)) == (
        "u-street-dispatcher-1", "u-grid-worker-001001", {"on_duty": False})
    assert [e.subject_id for e in trail(h, "routing.extension.requested")] == [oid]
    assert [e.actor_id for e in trail(h, "routing.extension.rejected")] == ["u-supervisor-1"]


# --------------------------------------------------------------------------- abuse and bad input


def test_the_ledger_export_is_limited_per_user(h):
    community = h.headers("community")
    for _ in range(20):
        assert h.client.get(f"{V1}/ledger", headers=community).status_code == 200
    r = h.client.get(f"{V1}/ledger", headers=community)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate.limited"
    assert int(r.headers["Retry-After"]) > 0
    assert h.client.get(f"{V1}/ledger", headers=h.headers("street")).status_code == 200  # per user
    assert len(trail(h, "export.ledger")) == 21  # the refused one exported nothing


def test_refused_ledger_requests_do_not_use_up_the_hours_exports(h):
    community = h.headers("community")
    for params in [{"format": "pdf"}, {"period": "2026-13"}, {"status": "bogus"}] * 8:  # 24 refusals
        assert h.client.get(f"{V1}/ledger", params=params, headers=community).status_code == 422
    assert all(h.client.get(f"{V1}/ledger", headers=community).status_code == 200 for _ in range(20))
    assert h.client.get(f"{V1}/ledger", headers=community).status_code == 429


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1999-12", "2100-01", "2026-00", "2026-13", "2026-Q5",
                                    "2026-H3", "2100"])
@pytest.mark.parametrize("path", ["/scores", "/rankings", "/ledger"])
def test_a_period_outside_the_calendar_is_a_422_not_a_crash(h, path, period):
    r = h.client.get(f"{V1}{path}", params={"period": period}, headers=h.headers("supervisor"))
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "scores.bad_period", "message": "统计期应为 YYYY-MM、YYYY-Qn、YYYY-Hn 或 YYYY（2000—2099 年）",
        "field": "period"}


@pytest.mark.parametrize("path,params", [
    ("/ledger", {"limit": "9" * 20}), ("/ledger", {"limit": 0}), ("/supervision/overdue", {"limit": "9" * 20}),
    ("/scores", {"period": "2026-1"}), ("/scores", {"period": "2026-10-01"}), ("/ledger", {"category": "x" * 65}),
    ("/units", {"parent_code": "9" * 33}), ("/locate", {"lat": 91, "lon": 104}),
])
def test_out_of_range_query_values_are_422_with_the_field(h, path, params):
    r = h.client.get(f"{V1}{path}", params=params, headers=h.headers("supervisor"))
    assert r.status_code == 422 and r.json()["error"]["field"] == next(iter(params))


def test_out_of_range_path_values_are_422_with_the_field(h):
    r = h.post(f"/extensions/{'9' * 25}/decision", "supervisor", {"approve": True})
    assert r.status_code == 422 and r.json()["error"]["field"] == "extension_id"
    r = h.client.get(f"{V1}/work-orders/{'x' * 37}", headers=h.headers("supervisor"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "order_id"


def test_the_openapi_document_says_what_the_endpoints_answer(h):
    doc = h.client.get("/routing/openapi.json").json()
    ledger = doc["paths"][f"{V1}/ledger"]["get"]["responses"]
    assert set(ledger["200"]["content"]) == {"text/csv",
                                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert {"403", "422", "429"} <= set(ledger)
    for path, ops in doc["paths"].items():
        if "{order_id}" in path:
            for method, op in ops.items():
                assert "404" in op["responses"], (method, path)
    with h.rt.uow() as session:  # the ledger's documented types are the ones it sends
        assert session.scalar(select(WorkOrder.id).limit(1)) is None
    r = h.client.get(f"{V1}/ledger", params={"format": "xlsx"}, headers=h.headers("supervisor"))
    assert r.headers["content-type"] in ledger["200"]["content"]
    r = h.client.get(f"{V1}/ledger", headers=h.headers("supervisor"))
    assert r.headers["content-type"].split(";")[0] in ledger["200"]["content"]
    assert list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[0][0] == "诉求编号"


def test_operators_read_and_act_on_no_work_order_they_follow_the_cases_they_took_in_intake(h):
    """Review of issue 11, finding 4: an operator got 200 on the order of a case intake hides from
    her (requester included) and reassigned it; an operator of the district read every order.
    Routing does not know who took a case (intake.case.submitted does not say), and a hotline
    operator neither handles, dispatches nor closes work: she reads no order and acts on none."""
    case_id = h.submit()
    oid = h.lead(case_id)["id"]
    for who in (as_user(h, "u-operator-1", "operator", DISTRICT), as_user(h, "u-operator-2", "operator", STREET)):
        r = h.client.get(f"{V1}/work-orders/{oid}", headers=who)
        assert r.status_code == 404 and r.json()["error"]["code"] == "workorder.not_found"
        assert "u-resident-1" not in r.text
        for path, body in (("reassign", {"unit_code": URBAN, "reason": "改派测试"}), ("close", None),
                           ("supervise", {"note": "请加快"}), ("sign", None)):
            r = h.client.post(f"{V1}/work-orders/{oid}/{path}", json=body, headers=who)
            assert r.status_code == 403 and r.json()["error"]["code"] == "auth.forbidden", path
        # The ledger lists work orders: not hers to export either.
        assert h.client.get(f"{V1}/ledger", headers=who).status_code == 403
        assert h.client.get(f"{V1}/work-orders/mine", headers=who).status_code == 403
    assert h.lead(case_id)["id"] == oid and h.get(oid)["status"] == "dispatched"
