"""A case imported from the city's 12345 platform: the platform's order number, carried on
intake.case.submitted, is on every work order of the case — the first, a re-dispatch after a return —
in the work-order view, a handler's own list and the ledger, so whoever handles or reports the order names
the number the platform counts by."""

import csv
import io
from datetime import UTC, datetime

from .conftest import COMMUNITY1, GRID1_CODE

ORDER_NO = "GD20261214000123"


def test_the_platforms_order_number_is_shown_on_every_work_order_and_in_the_ledger(h):
    case_id = h.submit(external_source="12345", external_no=ORDER_NO,
                       external_deadline=datetime(2099, 1, 3, 10, 0, tzinfo=UTC))
    plain = h.submit()
    first = h.lead(case_id)
    assert (first["unit_code"], first["external_no"]) == (GRID1_CODE, ORDER_NO)
    assert h.lead(plain)["external_no"] is None
    mine = h.client.get("/routing/v1/work-orders/mine", headers=h.headers("grid")).json()["items"]
    assert {o["case_id"]: o["external_no"] for o in mine} == {case_id: ORDER_NO, plain: None}

    # 退单: the next unit's order is the same platform order.
    reason = {"reason": "不属本单位职责", "legal_basis": "职责清单第3条"}
    r = h.post(f"/work-orders/{first['id']}/return", "grid", reason)
    assert r.status_code == 200, r.text
    second = h.lead(case_id)
    assert second["unit_code"] == COMMUNITY1 and second["id"] != first["id"]
    assert [o["external_no"] for o in h.orders(case_id)] == [ORDER_NO, ORDER_NO]

    r = h.client.get("/routing/v1/ledger", params={"format": "csv"}, headers=h.headers("supervisor"))
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    column = rows[0].index("12345工单编号")
    by_order = {row[1]: row[column] for row in rows[1:]}
    assert by_order[first["id"]] == by_order[second["id"]] == ORDER_NO
    assert by_order[h.lead(plain)["id"]] == ""
