"""Statistics on a hand-built data set: accepted, 化解率, average duration, by type, committee and mediator."""

from datetime import UTC, datetime, timedelta

from services.mediation import stats
from services.mediation.models import Assignment, Dispute
from services.mediation.seed import committee_id

from .conftest import auth
from .helpers import MEDIATOR, RESIDENT, audit_rows

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NORTH, WY = committee_id("TJW-510107001001"), committee_id("TJW-WY")


def _d(session, n, dtype, committee, status, mediator=None, accepted_days=None, closed_days=None, applied=T0):
    d = Dispute(id=f"d{n}", dispute_no=f"TJ-TEST-{n}", source="application", dispute_type=dtype, status=status,
                committee_id=committee, matter="测试纠纷事实", applied_at=applied, seq=0,
                accepted_at=applied + timedelta(days=accepted_days) if accepted_days is not None else None,
                closed_at=applied + timedelta(days=closed_days) if closed_days is not None else None)
    session.add(d)
    session.flush()
    if mediator:
        session.add(Assignment(dispute_id=d.id, mediator_id=mediator, active=True, assigned_at=applied))


def _build(rt):
    with rt.uow() as s:
        _d(s, 1, "neighbour", NORTH, "succeeded", "u-mediator-1", 1, 11)   # 10 days
        _d(s, 2, "neighbour", NORTH, "succeeded", "u-mediator-1", 0, 20)   # 20 days
        _d(s, 3, "neighbour", NORTH, "failed", "u-med-wulao-001", 2, 32)   # 30 days
        _d(s, 4, "family", NORTH, "accepted", "u-med-wulao-001", 1)        # open
        _d(s, 5, "family", NORTH, "refused", None, None, 1)                # never accepted
        _d(s, 6, "property", WY, "succeeded", "u-med-wy-001", 1, 5)        # 4 days
        _d(s, 7, "property", WY, "withdrawn", "u-med-wy-001", 1, 3)        # the applicant's choice
        _d(s, 8, "property", WY, "succeeded", "u-med-wy-001", 0, 2, applied=T0 + timedelta(days=40))  # next period
        _d(s, 9, "property", WY, "applied", None)


def test_statistics_on_a_hand_built_set(rt):
    _build(rt)
    with rt.uow() as s:
        got = stats.compute(s, T0 - timedelta(days=1), T0 + timedelta(days=31))
    total = got["total"]
    assert (total["applied"], total["accepted"], total["succeeded"], total["failed"], total["refused"],
            total["withdrawn"], total["open"]) == (8, 6, 3, 1, 1, 1, 2)
    assert total["resolution_rate"] == 0.75  # 3 of the 4 that ended in mediation
    assert total["average_days"] == 16.0  # (10 + 20 + 30 + 4) / 4
    by_type = {t["code"]: t for t in got["by_type"]}
    assert by_type["neighbour"]["resolution_rate"] == round(2 / 3, 4) and by_type["neighbour"]["average_days"] == 20.0
    assert by_type["family"]["resolution_rate"] is None and by_type["family"]["accepted"] == 1
    assert by_type["property"]["name"] == "物业" and by_type["property"]["resolution_rate"] == 1.0
    by_committee = {c["committee_id"]: c for c in got["by_committee"]}
    assert by_committee[NORTH]["applied"] == 5 and by_committee[NORTH]["resolution_rate"] == round(2 / 3, 4)
    assert by_committee[WY]["name"] == "玉林街道物业纠纷人民调解委员会" and by_committee[WY]["applied"] == 3
    by_mediator = {m["mediator_id"]: m for m in got["by_mediator"]}
    assert by_mediator["u-mediator-1"]["succeeded"] == 2 and by_mediator["u-mediator-1"]["average_days"] == 15.0
    assert by_mediator["u-med-wulao-001"]["resolution_rate"] == 0.0 and by_mediator["u-med-wulao-001"]["open"] == 1
    assert by_mediator["u-med-wy-001"]["applied"] == 2  # d8 falls in the next period


def test_statistics_endpoint_scopes_and_permissions(client, rt):
    _build(rt)
    r = client.get("/mediation/v1/statistics", headers=auth(rt, "u-resident-1", "resident"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "stats.forbidden"
    everything = client.get("/mediation/v1/statistics", headers=auth(rt, "u-supervisor-1", "supervisor")).json()
    assert everything["total"]["applied"] == 9
    own = client.get("/mediation/v1/statistics", headers=auth(rt, "u-mediator-1")).json()
    assert own["total"]["applied"] == 5  # a mediator sees their committee only
    period = client.get("/mediation/v1/statistics", params={"from": "2026-04-01T00:00:00Z"},
                        headers=auth(rt, "u-supervisor-1", "supervisor")).json()
    assert period["total"]["applied"] == 1


def test_a_dispute_terminated_before_acceptance_does_not_count_against_the_resolution_rate(rt):
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    north = committee_id("TJW-510107001001")
    with rt.uow() as s:
        for n, status, accepted_days, closed_days in [(1, "succeeded", 1, 11), (2, "failed", 1, 5),
                                                      (3, "failed", None, 2)]:  # never mediated
            s.add(Dispute(id=f"d{n}", dispute_no=f"TJ-T-{n}", source="application", dispute_type="neighbour",
                          status=status, committee_id=north, matter="测试纠纷事实", applied_at=t0, seq=0,
                          accepted_at=t0 + timedelta(days=accepted_days) if accepted_days is not None else None,
                          closed_at=t0 + timedelta(days=closed_days)))
    with rt.uow() as s:
        total = stats.compute(s)["total"]
    assert (total["accepted"], total["succeeded"], total["failed"]) == (2, 1, 2)
    assert total["resolution_rate"] == 0.5  # 1 of the 2 mediated, not 1 of 3
    assert total["average_days"] == 7.0


def test_statistics_reads_are_audited_and_a_refused_one_too(client, rt):
    assert client.get("/mediation/v1/statistics", headers=auth(rt, RESIDENT, "resident")).status_code == 403
    assert client.get("/mediation/v1/statistics", headers=auth(rt, MEDIATOR)).status_code == 200
    assert audit_rows(rt, None, "read.statistics") == [(RESIDENT, False, None), (MEDIATOR, True, None)]


def test_a_period_without_a_time_zone_gets_a_4xx_not_a_500(client, rt):
    r = client.get("/mediation/v1/statistics", params={"from": "2026-04-01T00:00:00"},
                   headers=auth(rt, "u-supervisor-1", "supervisor"))
    assert r.status_code == 422, r.text


def test_a_month_a_quarter_or_a_year_and_the_table_export(client, rt):
    _build(rt)
    h = auth(rt, "u-supervisor-1", "supervisor")

    def applied(period):
        r = client.get("/mediation/v1/statistics", params={"period": period}, headers=h)
        assert r.status_code == 200, r.text
        return r.json()["total"]["applied"]

    assert [applied(p) for p in ("2026-03", "2026-Q1", "2026-Q2", "2026", "2025")] == [8, 8, 1, 9, 0]
    r = client.get("/mediation/v1/statistics", params={"period": "2026-Q1", "format": "csv"}, headers=h)
    lines = r.content.decode("utf-8-sig").splitlines()
    assert r.status_code == 200 and lines[0].startswith("分组,名称,申请")
    assert lines[1] == "合计,,8,6,1,1,3,1,2,0.75,16.0"  # d9, only applied for, is open
    both = client.get("/mediation/v1/statistics", params={"period": "2026-Q1", "from": "2026-01-01T00:00:00Z"},
                      headers=h)
    assert both.status_code == 422 and both.json()["error"]["code"] == "statistics.period_and_dates"
    bad = client.get("/mediation/v1/statistics", params={"period": "2026-Q7"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"] == {
        "code": "statistics.bad_period", "message": "统计期应为 YYYY-MM、YYYY-Qn、YYYY-Hn 或 YYYY（2000—2099 年）",
        "field": "period"}


def test_the_ledger_lists_each_dispute_of_the_period_without_parties_or_facts(client, rt):
    _build(rt)
    r = client.get("/mediation/v1/ledger", params={"period": "2026-Q1"},
                   headers=auth(rt, "u-supervisor-1", "supervisor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("案件编号,来源,纠纷类型") and len(lines) == 9  # d1–d7 and d9; d8 is April
    first = lines[1].split(",")
    assert first[0] == "TJ-TEST-1" and first[9] == "10.0" and "测试纠纷事实" not in r.text
    own = client.get("/mediation/v1/ledger", params={"period": "2026-Q1"}, headers=auth(rt, "u-mediator-1"))
    assert len(own.content.decode("utf-8-sig").splitlines()) == 1 + 5  # her committee's five
    assert client.get("/mediation/v1/ledger", params={"period": "2026-Q1"},
                      headers=auth(rt, RESIDENT, "resident")).status_code == 403


def test_a_period_ending_before_it_starts_is_refused_not_counted_as_empty(client, rt):
    admin = auth(rt, "u-admin-1", "admin")
    r = client.get("/mediation/v1/statistics", headers=admin,
                   params={"from": "2026-12-31T00:00:00+08:00", "to": "2026-01-01T00:00:00+08:00"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "statistics.bad_range", r.text
    assert r.json()["error"]["field"] == "to"
    r = client.get("/mediation/v1/statistics", headers=admin,
                   params={"from": "2026-01-01T00:00:00+08:00", "to": "2026-12-31T00:00:00+08:00"})
    assert r.status_code == 200, r.text
