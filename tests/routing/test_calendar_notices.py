"""The State Council's holiday notices as data (issue 12): chinesecalendar knows the years up to 2026,
so in December 2026 the 春节 of 2027 counted as working days. An admin loads each year's notice
(validated, versioned, audited); every clock counts on it; a year with none is warned about from
1 November of the year before.

SYNTHETIC_2027 is made up for these tests (plausible dates, *not* the published notice of 2027)."""

import json
import logging
import shutil
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from sqlalchemy import select

from services.routing import clocks, config, notices, workcalendar
from services.routing.config import Duration
from services.routing.models import Clock, TimelineEntry, WorkOrder
from services.routing.service import SPEC
from services.routing.workcalendar import OfficialDays, WorkCalendar, deadline_and_warning
from shared.auth import issue_token
from shared.config import get_settings

from .conftest import DISTRICT, STREET

CN = ZoneInfo("Asia/Shanghai")
V1 = "/routing/v1"

SYNTHETIC_2027 = {
    "year": 2027,
    "title": "国务院办公厅关于2027年部分节假日安排的通知（测试用虚构数据）",
    "document_no": "测试〔2026〕1号",
    "holidays": [
        {"name": "元旦", "first": "2027-01-01", "last": "2027-01-03"},
        {"name": "春节", "first": "2027-02-05", "last": "2027-02-13", "workdays": ["2027-02-20"]},
        {"name": "清明节", "first": "2027-04-03", "last": "2027-04-05"},
        {"name": "劳动节", "first": "2027-05-01", "last": "2027-05-05", "workdays": ["2027-04-25", "2027-05-08"]},
        {"name": "端午节", "first": "2027-06-09"},
        {"name": "中秋节", "first": "2027-09-15"},
        {"name": "国庆节", "first": "2027-10-01", "last": "2027-10-07", "workdays": ["2027-09-26", "2027-10-09"]},
    ],
}
PEOPLE = {
    "admin": ("u-admin-1", "admin", DISTRICT),
    "root_supervisor": ("u-supervisor-1", "supervisor", DISTRICT),
    "street_supervisor": ("u-supervisor-2", "supervisor", STREET),
    "grid": ("u-grid-worker-001001", "grid_worker", "510107001001001"),
    "operator": ("u-operator-1", "operator", DISTRICT),
    "resident": ("u-resident-1", "resident", None),
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CN)


def auth(h, who: str) -> dict:
    uid, role, unit = PEOPLE[who]
    return {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}


def load(h, notice: dict, who: str = "admin"):
    return h.client.post(f"{V1}/calendar/notices", json=notice, headers=auth(h, who))


def with_2027(**changes) -> dict:
    return {**json.loads(json.dumps(SYNTHETIC_2027)), **changes}


@pytest.fixture(autouse=True)
def fresh_calendar():
    workcalendar.clear_caches()
    yield
    workcalendar.clear_caches()


# ----------------------------------------------------------------------------- the data


def test_the_shipped_2026_notice_is_the_one_the_package_encodes():
    """data/holidays/2026.json, written from the published notice, classifies every day of 2026 as
    chinesecalendar 1.11 does."""
    notice = notices.shipped()[2026]
    assert not notices.problems(notice)
    days = OfficialDays({2026: workcalendar.Source("file", notice)})
    differ = [d for d, working in workcalendar.year_days(days, 2026) if working != chinese_calendar.is_workday(d)]
    assert differ == []
    assert workcalendar.shipped_days().source(2026) == "file"


def test_the_synthetic_2027_notice_is_valid_and_classifies_every_day():
    notice = notices.Notice.model_validate(SYNTHETIC_2027)
    assert notices.problems(notice) == []
    days = OfficialDays({2027: workcalendar.Source("notice", notice, 1)})
    year = dict(workcalendar.year_days(days, 2027))
    assert len(year) == 365 and None not in year.values()
    assert not year[date(2027, 2, 8)]  # a Monday of 春节
    assert year[date(2027, 2, 20)]  # the Saturday worked in exchange
    assert year[date(2027, 3, 1)] and not year[date(2027, 3, 6)]  # the rest: Monday works, Saturday rests


def test_without_a_notice_2027s_spring_festival_counts_as_working_days_and_with_one_it_does_not(h):
    """The issue: the package stops at 2026, so 8 February 2027 (a Monday of 春节) counted."""
    with h.rt.uow() as session:
        cal = clocks.calendar(session)
        assert cal.is_working_day(date(2027, 2, 8))
        assert cal.add(at(2027, 2, 4, 10), working_days=1) == at(2027, 2, 5, 10)
    assert load(h, SYNTHETIC_2027).status_code == 201
    with h.rt.uow() as session:
        cal = clocks.calendar(session)
        assert not cal.is_working_day(date(2027, 2, 8)) and cal.is_working_day(date(2027, 2, 20))
        # Thursday 4 February 10:00 + 1 working day: across 春节 to Monday 15 February.
        assert cal.add(at(2027, 2, 4, 10), working_days=1) == at(2027, 2, 15, 10)
        deadline, warn, _ = deadline_and_warning(cal, at(2027, 2, 4, 10), Duration(working_days=2), 0.75)
        assert deadline == at(2027, 2, 16, 10) and warn == at(2027, 2, 15, 22)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("notice, code, field", [
    (with_2027(holidays=[{"name": "元旦", "first": "2026-12-31", "last": "2027-01-01"}]),
     "calendar.date_outside_year", "holidays[0].first"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"], {"name": "补班", "first": "2027-03-01",
                                                      "workdays": ["2028-01-01"]}]),
     "calendar.date_outside_year", "holidays[7].workdays[0]"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"], {"name": "春节", "first": "2027-03-01"}]),
     "calendar.duplicate_date", "holidays[7].name"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"][:6],
                         {"name": "国庆节", "first": "2027-10-01", "last": "2027-10-07",
                          "workdays": ["2027-09-26", "2027-09-26"]}]),
     "calendar.duplicate_date", "holidays[6].workdays[1]"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"], {"name": "另一个假期", "first": "2027-02-12",
                                                      "last": "2027-02-15"}]),
     "calendar.overlap", "holidays[7]"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"][:6],
                         {"name": "国庆节", "first": "2027-10-01", "last": "2027-10-07",
                          "workdays": ["2027-09-27"]}]),  # a Monday: a working day anyway
     "calendar.contradiction", "holidays[6].workdays[0]"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"][:6],
                         {"name": "国庆节", "first": "2027-10-01", "last": "2027-10-07",
                          "workdays": ["2027-10-02"]}]),  # a Saturday inside the holiday
     "calendar.contradiction", "holidays[6].workdays[0]"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"][:6],
                         {"name": "国庆节", "first": "2027-10-07", "last": "2027-10-01"}]),
     "calendar.contradiction", "holidays[6].last"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"][:6],  # 国庆 forgotten: 1 October (a Friday) would work
                         {"name": "重阳节", "first": "2027-10-09"}]),
     "calendar.contradiction", "holidays"),
    (with_2027(holidays=[*SYNTHETIC_2027["holidays"][:6],
                         {"name": "国庆节", "first": "2027-10-01", "last": "2027-10-30"}]),
     "calendar.contradiction", "holidays[6].last"),
])
def test_a_bad_notice_is_refused_with_its_code_field_and_every_problem_and_nothing_is_saved(h, notice, code, field):
    r = load(h, notice)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"] and error["detail"]  # Chinese by default, each problem named
    assert h.client.get(f"{V1}/calendar/notices", headers=auth(h, "admin")).json() == []


def test_every_problem_is_listed_not_only_the_first(h):
    notice = with_2027(holidays=[{"name": "春节", "first": "2027-02-05", "last": "2027-02-13",
                                  "workdays": ["2027-02-08", "2028-02-20"]},
                                 {"name": "春节", "first": "2027-02-10"}])
    detail = load(h, notice).json()["error"]["detail"]
    for words in ("2028-02-20 不在 2027 年内", "本来就是工作日", "重复列出", "重叠", "既是放假日", "法定节假日"):
        assert words in detail, (words, detail)


def test_the_shape_is_checked_before_the_dates(h):
    for notice in (with_2027(year=1999), with_2027(holidays=[]), with_2027(surprise=1),
                   with_2027(holidays=[{"name": "春节", "first": "not a date"}])):
        r = load(h, notice)
        assert r.status_code == 422 and r.json()["error"]["code"].startswith("validation."), r.text


# ----------------------------------------------------------------------------- versions


def test_each_load_is_a_new_version_kept_with_who_and_when_audited_and_the_newest_is_used(h):
    first = load(h, SYNTHETIC_2027)
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["loaded_by"] == "u-admin-1"
    # A correction: 端午 on 9 and 10 June. The newest version counts at once.
    corrected = with_2027(note="更正端午节安排", holidays=[*SYNTHETIC_2027["holidays"][:4],
                                                    {"name": "端午节", "first": "2027-06-09", "last": "2027-06-10"},
                                                    *SYNTHETIC_2027["holidays"][5:]])
    second = load(h, corrected, "root_supervisor")
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2 and second.json()["changed_days"] == ["2027-06-10"]
    with h.rt.uow() as session:
        assert not clocks.calendar(session).is_working_day(date(2027, 6, 10))

    versions = h.client.get(f"{V1}/calendar/notices", params={"year": 2027}, headers=auth(h, "admin")).json()
    assert [(v["version"], v["current"], v["loaded_by"]) for v in versions] == [
        (1, False, "u-admin-1"), (2, True, "u-supervisor-1")]
    assert all(v["loaded_at"] for v in versions) and versions[1]["notice"]["note"] == "更正端午节安排"

    with h.rt.uow() as session:
        trail = session.execute(select(SPEC.audit.c.actor_id, SPEC.audit.c.subject_id, SPEC.audit.c.detail)
                                .where(SPEC.audit.c.action == "routing.calendar.loaded")
                                .order_by(SPEC.audit.c.id)).all()
    assert [(t.actor_id, t.subject_id, json.loads(t.detail)["version"]) for t in trail] == [
        ("u-admin-1", "2027", 1), ("u-supervisor-1", "2027", 2)]


def test_a_loaded_notice_wins_over_the_file_and_the_package(h):
    """A correction of 2026 (an extra day off on 2 December) wins over data/holidays/2026.json and
    chinesecalendar, which both say 2 December 2026 is a working day."""
    notice = notices.shipped()[2026].model_dump(mode="json")
    notice["holidays"].append({"name": "临时调整（测试）", "first": "2026-12-02"})
    assert chinese_calendar.is_workday(date(2026, 12, 2))
    assert load(h, notice).status_code == 201
    with h.rt.uow() as session:
        days = workcalendar.official_days(session)
        assert not days.is_working_day(date(2026, 12, 2)) and days.source(2026) == "notice"
    view = h.client.get(f"{V1}/calendar/days", params={"year": 2026}, headers=auth(h, "grid")).json()
    assert view["source"] == "notice" and view["version"] == 1 and "2026-12-02" in view["rest_weekdays"]


def test_the_file_can_be_posted_as_it_is(h):
    raw = json.loads((config.DEFAULT_DIR / "holidays" / "2026.json").read_text(encoding="utf-8"))
    assert "_comment" in raw
    r = load(h, raw)
    assert r.status_code == 201, r.text
    assert r.json()["same_as_previous"] and r.json()["changed_days"] == [] and r.json()["retimed_work_orders"] == 0


def test_who_may_load_and_read_the_versions(h):
    for who, status in (("admin", 201), ("root_supervisor", 201), ("street_supervisor", 403), ("grid", 403),
                        ("operator", 403), ("resident", 403)):
        assert load(h, SYNTHETIC_2027, who).status_code == status, who
        listed = h.client.get(f"{V1}/calendar/notices", headers=auth(h, who)).status_code
        assert listed == (200 if status == 201 else 403), who
    for who, status in (("grid", 200), ("operator", 200), ("street_supervisor", 200), ("resident", 403)):
        assert h.client.get(f"{V1}/calendar", headers=auth(h, who)).status_code == status, who
        assert h.client.get(f"{V1}/calendar/days", params={"year": 2027},
                            headers=auth(h, who)).status_code == status, who


# ----------------------------------------------------------------------------- clocks


def test_loading_a_notice_re_times_the_running_clocks_whose_days_it_changes(h):
    """A result clock started on Friday 29 January 2027 with 7 working days ended on 9 February under
    the weekday rule, in the middle of 春节; with the notice it ends on 17 February."""
    case_id = h.submit()
    oid = h.lead(case_id)["id"]
    start = at(2027, 1, 29, 10)
    with h.rt.uow() as session:
        clock = session.scalars(select(Clock).where(Clock.work_order_id == oid, Clock.kind == "result")).one()
        deadline, warn, _ = deadline_and_warning(WorkCalendar(CN), start, Duration(working_days=7), 0.75)
        assert deadline == at(2027, 2, 9, 10)
        clock.started_at, clock.deadline, clock.warn_at, clock.next_fire_at = start, deadline, warn, warn
        session.get(WorkOrder, oid).result_deadline = deadline
        before = {c.kind: c.deadline for c in session.scalars(select(Clock).where(Clock.work_order_id == oid))}

    r = load(h, SYNTHETIC_2027)
    assert r.status_code == 201 and r.json()["retimed_work_orders"] == 1, r.text

    with h.rt.uow() as session:
        order = session.get(WorkOrder, oid)
        clock = session.scalars(select(Clock).where(Clock.work_order_id == oid, Clock.kind == "result")).one()
        assert clock.deadline == order.result_deadline == at(2027, 2, 17, 10)
        cal = clocks.calendar(session)
        assert cal.elapsed(start, clock.deadline) == timedelta(days=7)  # the same working time, on the notice
        assert cal.elapsed(start, clock.warn_at) == timedelta(days=7 * 0.75)
        assert clock.next_fire_at == clock.warn_at and not clock.warned
        others = {c.kind: c.deadline for c in session.scalars(select(Clock).where(Clock.work_order_id == oid))
                  if c.kind != "result"}
        assert others == {k: v for k, v in before.items() if k != "result"}  # their days did not change
        entry = session.scalars(select(TimelineEntry).where(TimelineEntry.work_order_id == oid,
                                                            TimelineEntry.kind == "calendar")).one()
        detail = json.loads(entry.detail)
        assert detail["calendar_year"] == 2027 and detail["calendar_version"] == 1
        assert set(detail["deadlines"]) == {"result"}


def test_the_calendar_is_built_once_per_revision_and_reused(h):
    def days_of_a_transaction() -> OfficialDays:
        with h.rt.uow() as session:
            return workcalendar.official_days(session)

    first = days_of_a_transaction()
    assert days_of_a_transaction() is first
    load(h, SYNTHETIC_2027)
    days = days_of_a_transaction()
    assert days is not first and days is days_of_a_transaction() and days.source(2027) == "notice"
    # Fast enough for every dispatch: a thousand 15-working-day deadlines across 春节.
    cal = WorkCalendar(CN, days)
    started = datetime.now()
    for i in range(1000):
        cal.add(at(2027, 1, 20, 9) + timedelta(minutes=i), working_days=15)
    assert datetime.now() - started < timedelta(seconds=2)


# ----------------------------------------------------------------------------- the warning


def test_a_missing_next_year_is_warned_about_from_1_november(h, monkeypatch, caplog):
    admin = auth(h, "admin")
    monkeypatch.setattr(workcalendar, "local_today", lambda: date(2026, 10, 31))
    quiet = h.client.get(f"{V1}/calendar", headers=admin).json()
    assert quiet["warning"] is None and quiet["warnings"] == []

    monkeypatch.setattr(workcalendar, "local_today", lambda: date(2026, 11, 1))
    with caplog.at_level(logging.WARNING, logger="services.routing.workcalendar"):
        status = h.client.get(f"{V1}/calendar", headers=auth(h, "grid")).json()
        h.client.get(f"{V1}/calendar", headers=admin)
    assert [(w["code"], w["year"]) for w in status["warnings"]] == [("calendar.year_not_covered", 2027)]
    assert "2027" in status["warning"] and "周一至周五" in status["warning"]
    years = {y["year"]: y for y in status["years"]}
    assert years[2026]["source"] == "file" and years[2026]["covered"]
    assert years[2027]["source"] == "none" and not years[2027]["covered"]
    assert status["policy"] == {"uncovered_years": "weekdays", "warn_from": "11-01"}
    logged = [r for r in caplog.records if "no State Council holiday notice for 2027" in r.getMessage()]
    assert len(logged) == 1  # once a day, however often it is asked

    assert load(h, SYNTHETIC_2027).status_code == 201
    status = h.client.get(f"{V1}/calendar", headers=admin).json()
    assert status["warning"] is None
    assert {y["year"]: (y["source"], y["version"]) for y in status["years"]}[2027] == ("notice", 1)


def test_the_calendars_keepers_are_told_once_a_week_of_a_year_no_notice_covers(h):
    def tell(when: datetime) -> list:
        fired = []
        with h.rt.unit_of_work() as uow:
            def emit(payload):
                fired.append(payload)
                return uow.emit(payload)

            workcalendar.announce_uncovered(uow.session, emit, when)
        return fired

    assert tell(at(2026, 10, 30, 9)) == []  # before 1 November the next year is not watched
    [told] = tell(at(2026, 11, 2, 9))
    assert (told.year, told.starts, told.policy) == (2027, date(2027, 1, 1), "weekdays")
    # The keepers: admins and the root unit's supervisors, not a street's.
    assert {"u-admin-1", "u-supervisor-1"} <= set(told.keeper_ids) and "u-supervisor-2" not in told.keeper_ids
    assert tell(at(2026, 11, 4, 9)) == []  # once a week
    assert [t.year for t in tell(at(2026, 11, 9, 9))] == [2027]  # and again the next
    assert load(h, SYNTHETIC_2027).status_code == 201
    assert tell(at(2026, 11, 16, 9)) == []  # loaded: nobody is bothered any more


def test_a_year_already_begun_without_a_notice_is_warned_about_too(h, monkeypatch):
    monkeypatch.setattr(workcalendar, "local_today", lambda: date(2027, 1, 5))
    status = h.client.get(f"{V1}/calendar", headers=auth(h, "admin")).json()
    assert [w["year"] for w in status["warnings"]] == [2027] and "已开始" in status["warning"]


def test_a_clock_computation_logs_the_warning_too(h, monkeypatch, caplog):
    monkeypatch.setattr(workcalendar, "local_today", lambda: date(2026, 12, 1))
    with caplog.at_level(logging.WARNING, logger="services.routing.workcalendar"):
        h.submit()  # a dispatch: its clocks ask for the calendar
    assert any("no State Council holiday notice for 2027" in r.getMessage() for r in caplog.records)


# ----------------------------------------------------------------------------- configuration


def _data_dir(monkeypatch, tmp_path, files: dict[str, object] | None = None) -> None:
    """A deployment's own data folder: the shipped files, with `files` (relative path → JSON) written over."""
    data = tmp_path / "data"
    shutil.copytree(config.DEFAULT_DIR, data)
    for name, content in (files or {}).items():
        (data / name).write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_ROUTING_DATA_DIR", str(data))
    workcalendar.clear_caches()


def test_a_broken_notice_file_stops_start_up(monkeypatch, tmp_path):
    bad = with_2027(holidays=[{"name": "春节", "first": "2027-02-05", "workdays": ["2027-02-08"]}])
    _data_dir(monkeypatch, tmp_path, {"holidays/2027.json": bad})
    with pytest.raises(ValueError, match="2027.json"):
        SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded"), f"sqlite:///{tmp_path / 'r.sqlite'}")


def test_a_notice_file_covers_its_year_below_the_loaded_versions(monkeypatch, tmp_path):
    _data_dir(monkeypatch, tmp_path, {"holidays/2027.json": SYNTHETIC_2027})
    days = workcalendar.shipped_days()
    assert days.source(2027) == "file" and not days.is_working_day(date(2027, 2, 8))
    assert workcalendar.warnings(days, date(2026, 11, 1)) == []


def test_a_year_nobody_covers_under_the_error_policy_is_shown_not_crashed(h, monkeypatch, tmp_path):
    cal = json.loads((config.DEFAULT_DIR / "calendar.json").read_text(encoding="utf-8"))
    _data_dir(monkeypatch, tmp_path, {"calendar.json": {**cal, "uncovered_years": "error"}})
    view = h.client.get(f"{V1}/calendar/days", params={"year": 2031}, headers=auth(h, "grid"))
    assert view.status_code == 200 and view.json()["working_day_count"] is None
    assert view.json()["source"] == "none" and not view.json()["covered"]
    monkeypatch.setattr(workcalendar, "local_today", lambda: date(2030, 11, 2))
    warning = h.client.get(f"{V1}/calendar", headers=auth(h, "admin")).json()["warning"]
    assert "2031" in warning and "派单将失败" in warning
