"""Working time on China's official calendar: holidays and swapped working weekends (调休)."""

import json
import shutil
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.routing import config, workcalendar
from services.routing.config import Duration
from services.routing.workcalendar import CalendarNotCovered, WorkCalendar, deadline_and_warning, is_working_day

CN = ZoneInfo("Asia/Shanghai")
cal = WorkCalendar()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CN)


def test_the_calendar_knows_2026_national_day_and_its_swapped_saturday():
    assert not is_working_day(date(2026, 10, 1)) and not is_working_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 10, 10))  # a Saturday worked in exchange (调休)
    assert date(2026, 10, 10).weekday() == 5


def test_one_working_day_from_the_eve_of_national_day_ends_after_the_holiday():
    assert cal.add(at(2026, 9, 30, 10, 0), working_days=1) == at(2026, 10, 8, 10, 0)


def test_the_swapped_working_saturday_counts():
    # Friday 9 October + 1 working day is Saturday 10 October (a working day), not Monday.
    assert cal.add(at(2026, 10, 9, 15, 30), working_days=1) == at(2026, 10, 10, 15, 30)
    # And the Sunday after it is a rest day again.
    assert cal.add(at(2026, 10, 10, 15, 30), working_days=1) == at(2026, 10, 12, 15, 30)


def test_a_clock_started_on_a_holiday_starts_counting_at_the_next_working_day():
    assert cal.add(at(2026, 10, 3, 11, 0), working_days=1) == at(2026, 10, 9, 0, 0)


def test_the_warning_is_at_75_percent_of_the_working_time_across_the_holiday():
    deadline, warn, working = deadline_and_warning(cal, at(2026, 9, 30, 10, 0), Duration(working_days=1), 0.75)
    assert working and deadline == at(2026, 10, 8, 10, 0)
    # 18 working hours: 14 left on 30 September, then 4 on 8 October.
    assert warn == at(2026, 10, 8, 4, 0)
    assert cal.elapsed(at(2026, 9, 30, 10, 0), warn) == timedelta(hours=18)


def test_wall_clock_profiles_ignore_the_calendar():
    deadline, warn, working = deadline_and_warning(cal, at(2026, 10, 1, 8, 0), Duration(minutes=15), 0.75)
    assert not working
    assert deadline == at(2026, 10, 1, 8, 15) and warn == at(2026, 10, 1, 8, 11, 15)


def _with_calendar(monkeypatch, tmp_path, calendar: dict) -> None:
    data = tmp_path / "data"
    shutil.copytree(config.DEFAULT_DIR, data)
    (data / "calendar.json").write_text(json.dumps(calendar), encoding="utf-8")
    monkeypatch.setenv("CG_ROUTING_DATA_DIR", str(data))
    _clear()


def _clear() -> None:
    workcalendar._configured.cache_clear()
    workcalendar.is_working_day.cache_clear()


@pytest.fixture
def restore_calendar():
    yield
    _clear()


def test_a_year_the_calendar_does_not_cover_counts_weekdays_by_default(restore_calendar):
    _clear()
    assert is_working_day(date(2031, 3, 3)) and not is_working_day(date(2031, 3, 1))  # Monday, Saturday
    assert cal.add(at(2031, 2, 28, 9, 0), working_days=1) == at(2031, 3, 3, 9, 0)  # Friday → Monday


def test_a_year_the_calendar_does_not_cover_fails_loudly_when_configured_so(monkeypatch, tmp_path, restore_calendar):
    _with_calendar(monkeypatch, tmp_path, {"uncovered_years": "error"})
    with pytest.raises(CalendarNotCovered, match="2031"):
        cal.add(at(2031, 3, 2, 9, 0), working_days=1)


def test_official_days_listed_in_the_configuration_win(monkeypatch, tmp_path, restore_calendar):
    _with_calendar(monkeypatch, tmp_path, {"holidays": ["2031-03-03"], "workdays": ["2031-03-01"]})
    assert not is_working_day(date(2031, 3, 3)) and is_working_day(date(2031, 3, 1))
    assert not is_working_day(date(2026, 10, 1))  # the package still answers for the years it knows


def test_new_years_day_is_a_rest_day_even_in_a_year_the_package_does_not_know():
    workcalendar.is_working_day.cache_clear()
    assert not is_working_day(date(2027, 1, 1))  # a Friday, but 元旦 by law every year
    assert not is_working_day(date(2027, 10, 1)) and not is_working_day(date(2027, 5, 1))
    # Thursday 31 December 2026 15:00 + 1 working day skips 元旦 and the weekend.
    start = datetime(2026, 12, 31, 15, 0, tzinfo=CN)
    assert WorkCalendar().add(start, working_days=1) == datetime(2027, 1, 4, 15, 0, tzinfo=CN)
