"""The reports leaders ask for, checked on a hand-built set of cases: a period's summary by street,
community and category, hotspots as GeoJSON, repeat requests, the top unresolved matters, the
caller's area only, and the CSV/XLSX files."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from services.intake import geo
from services.intake.models import Case, Evaluation
from shared.config import local_zone

from .conftest import COMMUNITY, DISTRICT, GRID, STREET

OTHER_STREET, OTHER_COMMUNITY, OTHER_GRID = "510107002000000", "510107002001000", "510107002001001"
PATH = f"/{DISTRICT}/{STREET}/{COMMUNITY}/{GRID}/"
OTHER_PATH = f"/{DISTRICT}/{OTHER_STREET}/{OTHER_COMMUNITY}/{OTHER_GRID}/"
SIZE = 0.005
HERE, THERE = geo.cell_of(30.6283, 104.052115, SIZE), geo.cell_of(30.70, 104.10, SIZE)
OCT = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def case(at, *, path=PATH, cell=HERE, category="env.garbage", status="closed", reporter="r-1", resolved=True,
         late=False, reopen=0, interest=1, parent=None, anonymous=False):
    deadline = at + timedelta(days=5)
    return Case(id=str(uuid.uuid4()), case_no=f"T-{uuid.uuid4().hex[:8]}", reporter_id=reporter, created_by_id=reporter,
                anonymous=anonymous, confidential=False, appeal_type="求助", category=category, category_version=1,
                matter_class="小事", route="dispatch", description="测试", grid_cell=cell, channel="app",
                urgency="一般", status=status, status_rank=0, interest_count=interest, reopen_count=reopen,
                parent_case_id=parent, area_path=path, result_deadline=deadline,
                resolved_at=(deadline + timedelta(days=1) if late else at + timedelta(days=1)) if resolved else None,
                created_at=at, updated_at=at, mediation_seq=0)


@pytest.fixture
def data(intake):
    cases = {
        # street 1: one requester thrice about garbage, 3 and 10 days apart (a repeat run of 3)
        "a": case(OCT, reporter="r-1"),
        "b": case(OCT + timedelta(days=3), reporter="r-1", late=True, reopen=1),
        "c": case(OCT + timedelta(days=13), reporter="r-1", status="dispatched", resolved=False, interest=4),
        # the same place, another requester, 60 days later: not within a 30-day window of the others
        "d": case(OCT + timedelta(days=45), reporter="r-2", status="signed", resolved=False, interest=2),
        # self-resolved on patrol; a road case elsewhere in the street's cell
        "e": case(OCT, reporter="g-1", status="self_resolved", category="facility.road"),
        # merged into "a": counts in its parent only
        "f": case(OCT, reporter="r-3", status="merged", resolved=False),
        # another street, same category
        "g": case(OCT, path=OTHER_PATH, cell=THERE, reporter="r-4", status="dispatched", resolved=False,
                  interest=9),
        # September: outside Q4
        "h": case(OCT - timedelta(days=30), reporter="r-1"),
    }
    cases["f"].parent_case_id = cases["a"].id
    with intake.rt.uow() as s:
        s.add_all(cases.values())
        s.flush()
        s.add_all([
            Evaluation(case_id=cases["a"].id, evaluated=True, solved=True, satisfaction="满意", via="resident", at=OCT),
            Evaluation(case_id=cases["b"].id, evaluated=True, solved=False, satisfaction="不满意", via="resident",
                       at=OCT),
            Evaluation(case_id=cases["e"].id, evaluated=False, via="timeout", at=OCT),
        ])
    intake.cases = cases
    return intake


def get(intake, path, role="supervisor", units=None, **params):
    headers = intake.auth(role, units=units) if units is not None else intake.auth(role)
    return intake.client.get(f"/intake/v1/reports/{path}", params=params, headers=headers)


def test_the_quarter_by_street_counts_each_case_once_with_its_rates(data):
    r = get(data, "summary", period="2026-Q4", group_by="street", role="admin")
    assert r.status_code == 200, r.text
    rows = {row["key"]: row for row in r.json()["rows"]}
    mine = rows[STREET]["counts"]
    # a b c d e: f is merged, h is September
    assert (mine["received"], mine["finished"], mine["resolved"], mine["resolved_on_time"]) == (5, 3, 3, 2)
    assert (mine["open"], mine["reopened"], mine["self_resolved"], mine["interest"]) == (2, 1, 1, 9)
    assert (mine["evaluated"], mine["solved"], mine["satisfied"]) == (2, 1, 1)
    assert rows[STREET]["rates"] == {"completion": 60.0, "on_time": 66.67, "solved": 50.0, "satisfaction": 50.0}
    assert rows[OTHER_STREET]["counts"]["received"] == 1 and rows[OTHER_STREET]["rates"]["solved"] is None
    september = get(data, "summary", period="2026-09", role="admin").json()["rows"]
    assert [(x["key"], x["counts"]["received"]) for x in september] == [(STREET, 1)]
    year = {x["key"]: x["counts"]["received"] for x in get(data, "summary", period="2026", role="admin").json()["rows"]}
    assert year == {STREET: 6, OTHER_STREET: 1}


def test_the_summary_groups_by_community_and_category(data):
    by_community = get(data, "summary", period="2026-Q4", group_by="community", role="admin").json()["rows"]
    assert {x["key"]: x["counts"]["received"] for x in by_community} == {COMMUNITY: 5, OTHER_COMMUNITY: 1}
    by_category = get(data, "summary", period="2026-Q4", group_by="category", role="admin").json()["rows"]
    assert {x["key"]: x["counts"]["received"] for x in by_category} == {"env.garbage": 5, "facility.road": 1}


def test_a_street_reads_only_its_own_area_and_a_department_reads_no_report(data):
    street = get(data, "summary", role="street_dispatcher", units=(STREET,), period="2026-Q4").json()["rows"]
    assert [x["key"] for x in street] == [STREET]
    other = get(data, "unresolved", role="community_staff", units=(OTHER_COMMUNITY,)).json()
    assert [x["case_no"] for x in other] == [data.cases["g"].case_no]
    for role in ("department_handler", "grid_worker", "mediator", "operator", "resident"):
        assert get(data, "summary", role=role, period="2026-Q4").status_code == 403


def test_hotspots_are_a_geojson_collection_of_cells_by_category_and_month(data):
    r = get(data, "hotspots", period="2026-Q4", role="admin")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    collection = r.json()
    assert collection["type"] == "FeatureCollection" and collection["cells_total"] == 2
    top = collection["features"][0]
    assert top["properties"]["cell"] == str(HERE) and top["properties"]["count"] == 5
    assert top["properties"]["categories"] == {"env.garbage": 4, "facility.road": 1}
    assert top["properties"]["months"] == {"2026-10": 4, "2026-11": 1}
    ring = top["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and ring[0][0] <= 104.052115 <= ring[2][0] and ring[0][1] <= 30.6283 <= ring[2][1]
    garbage_only = get(data, "hotspots", period="2026-Q4", role="admin", category="facility").json()
    assert [f["properties"]["count"] for f in garbage_only["features"]] == [1]


def test_repeat_requests_are_runs_within_the_window_never_naming_the_requester(data):
    rows = get(data, "repeats", period="2026-Q4", role="admin", window_days=30).json()
    c = data.cases
    runs = {(x["kind"], x["count"]): x for x in rows}
    assert runs[("requester", 3)]["case_nos"] == [c["a"].case_no, c["b"].case_no, c["c"].case_no]
    # The place saw a b c within 13 days and d 32 days after c: a run of three, then d alone.
    assert runs[("place", 3)]["case_nos"] == [c["a"].case_no, c["b"].case_no, c["c"].case_no]
    assert len(rows) == 2 and "r-1" not in str(rows)
    wider = get(data, "repeats", period="2026-Q4", role="admin", window_days=40).json()
    assert max(x["count"] for x in wider if x["kind"] == "place") == 4


def test_the_top_unresolved_are_ordered_by_people_waiting(data):
    rows = get(data, "unresolved", role="admin").json()
    c = data.cases
    assert [x["case_no"] for x in rows] == [c["g"].case_no, c["c"].case_no, c["d"].case_no]
    assert rows[0]["interest_count"] == 9 and rows[0]["overdue"] is True


def test_every_report_exports_as_csv_and_xlsx_on_the_audit_trail(data):
    r = get(data, "summary", period="2026-Q4", role="admin", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][:2] == ["分组", "受理"] and sorted(row[1] for row in table[1:]) == ["1", "5"]
    x = get(data, "repeats", period="2026-Q4", role="admin", format="xlsx")
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet.cell(1, 1).value == "重复类型" and sheet.max_row == 3
    assert get(data, "hotspots", period="2026-Q4", role="admin", format="csv").status_code == 200
    assert get(data, "unresolved", role="admin", format="xlsx").status_code == 200
    trail = data.client.get("/intake/v1/audit", params={"action": "export.report"}, headers=data.auth("admin"))
    assert trail.status_code == 200 and len(trail.json()["items"]) == 4


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "1999", "2026-H0"])
def test_a_bad_period_is_a_422_naming_the_field(data, period):
    r = get(data, "summary", role="admin", period=period)
    assert r.status_code == 422 and r.json()["error"]["code"] == "report.bad_period"
    assert r.json()["error"]["field"] == "period"


def test_the_monthly_ledgers_of_self_resolved_cases_and_consultations(data):
    r = get(data, "ledger", period="2026-10", role="admin", kind="self_resolved")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][0] == "诉求编号" and [row[0] for row in table[1:]] == [data.cases["e"].case_no]
    assert table[1][5] == "网格员已自办自结" and table[1][8] == COMMUNITY
    assert len(list(csv.reader(io.StringIO(get(data, "ledger", period="2026-10", role="admin",
                                                kind="consultations").content.decode("utf-8-sig"))))) == 1
    # Another street's community staff: the patrol's case is not in her area.
    other = get(data, "ledger", period="2026-10", role="community_staff", units=(OTHER_COMMUNITY,),
                kind="self_resolved", format="xlsx")
    assert load_workbook(io.BytesIO(other.content)).active.max_row == 1
    assert get(data, "ledger", period="2026-10", role="admin", kind="everything").status_code == 422


def test_a_case_routing_only_located_is_in_its_areas_ledger_and_a_dispatched_area_is_never_replaced(intake):
    from shared.events.routing import CaseLocated

    from .conftest import GRID_PATH

    mine = intake.submit(role="grid_worker", channel="grid_patrol", handling="self", result="已清运")
    period = datetime.fromisoformat(mine["created_at"]).astimezone(local_zone()).strftime("%Y-%m")
    ledger = {"period": period, "kind": "self_resolved"}

    def rows(units):
        r = get(intake, "ledger", role="community_staff", units=units, **ledger)
        return [row[0] for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))][1:]

    assert rows((COMMUNITY,)) == []  # not located yet: no area's staff see it
    assert intake.deliver(CaseLocated(case_id=mine["id"], area_path=GRID_PATH, at=OCT)) == "ack"
    assert rows((COMMUNITY,)) == [mine["case_no"]] and rows((OTHER_COMMUNITY,)) == []
    intake.deliver(CaseLocated(case_id=mine["id"], area_path=OTHER_PATH, at=OCT))  # a repeat elsewhere: kept
    assert rows((COMMUNITY,)) == [mine["case_no"]]
