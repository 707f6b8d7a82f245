"""Working time on China's official calendar (holidays and the swapped working weekends, 调休).

The calendar data comes from the maintained `chinesecalendar` package, which is updated each
year when the State Council publishes the next year's holidays; data/calendar.json lists
official days the package does not know yet. For a year known to neither, the configured
policy decides: count Monday to Friday, less the fixed-date statutory holidays (元旦, 劳动节,
国庆: the same dates every year by law), and warn once (the default: a case must still get its
deadline in the weeks before the package catches up), or raise `CalendarNotCovered`.

Working time counts whole working days in local time (CG_TIMEZONE): a deadline of N working days
from 15:00 on a Friday is 15:00 on the N-th following working day; time on a rest day does not
count, and a clock started on a rest day starts counting at the next working day's midnight.
"""

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from shared.config import local_zone

from . import config
from .config import Duration

DAY = timedelta(days=1)
log = logging.getLogger(__name__)


class CalendarNotCovered(RuntimeError):
    """The official calendar of this year is not known (update the chinesecalendar package)."""


@lru_cache(maxsize=1)
def _configured() -> tuple[frozenset[date], frozenset[date], str, frozenset[str]]:
    cfg = config.get().calendar
    return frozenset(cfg.holidays), frozenset(cfg.workdays), cfg.uncovered_years, frozenset(cfg.fixed_holidays)


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    holidays, workdays, policy, fixed = _configured()
    if day in holidays:
        return False
    if day in workdays:
        return True
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        message = (f"China's official calendar for {day.year} is not in chinesecalendar "
                   f"{chinese_calendar.__version__} nor in data/calendar.json")
        if policy == "error":
            raise CalendarNotCovered(f"{message}; add it before computing deadlines in {day.year}") from None
        _warn_uncovered(day.year, message)
        return day.weekday() < 5 and day.strftime("%m-%d") not in fixed


@lru_cache(maxsize=64)
def _warn_uncovered(year: int, message: str) -> None:
    log.warning("%s: counting Monday to Friday as working days until it is added", message)


class WorkCalendar:
    def __init__(self, zone: ZoneInfo | None = None):
        self.tz = zone or local_zone()

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def add(self, start: datetime, *, working_days: float = 0, seconds: float = 0) -> datetime:
        """The instant when `working_days` whole working days plus `seconds` of working time
        have passed since `start` (timezone-aware)."""
        remaining = timedelta(days=working_days, seconds=seconds)
        local = start.astimezone(self.tz)
        day = local.date()
        cursor = local
        # Bounded: a year of rest days in a row does not exist; stop well before spinning forever.
        for _ in range(3700):
            if is_working_day(day):
                end_of_day = self._midnight(day + DAY)
                available = end_of_day - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(start.tzinfo)
                remaining -= available
            day += DAY
            cursor = self._midnight(day)
        raise CalendarNotCovered("no working day found within ten years")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        cursor = start.astimezone(self.tz)
        end_local = end.astimezone(self.tz)
        while cursor < end_local:
            next_midnight = self._midnight(cursor.date() + DAY)
            segment_end = min(next_midnight, end_local)
            if is_working_day(cursor.date()):
                total += segment_end - cursor
            cursor = segment_end
        return total


    def after(self, start: datetime, span: Duration) -> datetime:
        """The end of a configured span (working days on this calendar, or wall-clock time)."""
        if span.in_working_time:
            return self.add(start, working_days=span.working_days)
        return start + timedelta(seconds=span.seconds)


def deadline_and_warning(cal: WorkCalendar, start: datetime, span: Duration, warn_ratio: float
                         ) -> tuple[datetime, datetime, bool]:
    """(deadline, warning instant, counted in working time) for a clock starting at `start`."""
    if span.in_working_time:
        deadline = cal.add(start, working_days=span.working_days)
        # The warning is at warn_ratio of the *working* time, not of the wall-clock span.
        warn = cal.add(start, seconds=span.working_days * 86400 * warn_ratio)
        return deadline, warn, True
    amount = timedelta(seconds=span.seconds)
    return start + amount, start + amount * warn_ratio, False
