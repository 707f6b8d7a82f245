"""Working time on China's official calendar (holidays and the swapped working weekends, 调休).

Where a year's days come from, first match wins (issue 12):
1. the State Council's notice for the year loaded by an admin (国务院办公厅关于某年部分节假日安排的通知,
   `notices.py`: the newest version of the year in the database), else the deployment's notice file
   `data/holidays/YYYY.json`. A notice classifies every date of its year: its holidays are rest days,
   its swapped working days (调休上班) working days, every other day follows the weekday rule;
2. data/calendar.json's `holidays` / `workdays` (single days; the stopgap before notices were data);
3. the maintained `chinesecalendar` package (1.11 knows 2004 to 2026);
4. a year known to none of them: the configured policy (calendar.json `uncovered_years`).
   `weekdays` (the default) counts Monday to Friday less the fixed-date statutory holidays (元旦,
   劳动节, 国庆: the same dates every year by law) and warns; `error` raises `CalendarNotCovered`.
   Why `weekdays` is the safer default: DOMAIN.md's clocks are what 接诉即办 is measured by, and a
   case must never be left without a deadline (with `error` nothing with a working-day clock could
   be dispatched in that year). The weekday rule errs only on the lunar holidays and the swaps, about
   a dozen days a year, always towards *earlier* deadlines (never a case forgotten); the warning
   below is raised from 1 November of the year before (data/holidays/policy.json), and loading the
   notice re-times every running clock it changes (`retime`), so the error does not outlive it.

Every clock takes its calendar from its transaction (`for_session`): one indexed query finds the
newest notice row, and the calendar of that revision is built once per process and shared (the
clock scanner and every dispatch reuse it), so loading a notice in one process reaches the others
at their next transaction.

Working time counts whole working days in local time (CG_TIMEZONE): a deadline of N working days
from 15:00 on a Friday is 15:00 on the N-th following working day; time on a rest day does not
count, and a clock started on a rest day starts counting at the next working day's midnight.
"""

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import chinese_calendar.constants
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.config import local_zone

from . import config, notices
from .config import Duration
from .journal import timeline
from .models import OPEN_STATUSES, Clock, WorkOrder

DAY = timedelta(days=1)
log = logging.getLogger(__name__)

# The years the installed chinesecalendar package knows.
PACKAGE_YEARS = frozenset(d.year for d in [*chinese_calendar.constants.holidays,
                                           *chinese_calendar.constants.workdays])


class CalendarNotCovered(RuntimeError):
    """The official calendar of this year is not known (load the State Council's notice)."""


# ----------------------------------------------------------------------------- below the notices


@lru_cache(maxsize=1)
def _configured() -> tuple[frozenset[date], frozenset[date], str, frozenset[str]]:
    cfg = config.get().calendar
    return frozenset(cfg.holidays), frozenset(cfg.workdays), cfg.uncovered_years, frozenset(cfg.fixed_holidays)


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """The day on calendar.json, the package, else the uncovered-year policy (no notices)."""
    holidays, workdays, policy, fixed = _configured()
    if day in holidays:
        return False
    if day in workdays:
        return True
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        message = (f"China's official calendar for {day.year} is not in chinesecalendar "
                   f"{chinese_calendar.__version__}, data/calendar.json, data/holidays nor a loaded notice")
        if policy == "error":
            raise CalendarNotCovered(f"{message}; load the State Council's notice before computing deadlines "
                                     f"in {day.year}") from None
        _warn_uncovered(day.year, message)
        return day.weekday() < 5 and day.strftime("%m-%d") not in fixed


@lru_cache(maxsize=64)
def _warn_uncovered(year: int, message: str) -> None:
    log.warning("%s: counting Monday to Friday as working days until it is added", message)


# ----------------------------------------------------------------------------- one revision's days


@dataclass(frozen=True)
class Source:
    """Where a year's notice comes from: a loaded version ("notice") or the deployment's file ("file")."""

    kind: str
    notice: notices.Notice
    version: int | None = None
    loaded_at: datetime | None = None
    loaded_by: str | None = None


@dataclass
class OfficialDays:
    """Which days are working days under one set of notices; the other years from below them."""

    sources: dict[int, Source] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._years = frozenset(self.sources)
        self._days: dict[date, bool] = {}
        for source in self.sources.values():
            self._days.update(notices.days(source.notice))

    def is_working_day(self, day: date) -> bool:
        if day.year in self._years:
            return self._days.get(day, day.weekday() < 5)
        return is_working_day(day)

    def source(self, year: int) -> str:
        """notice | file | package | configuration (calendar.json lists days, not the whole year) | none"""
        if year in self.sources:
            return self.sources[year].kind
        if year in PACKAGE_YEARS:
            return "package"
        holidays, workdays, _, _ = _configured()
        return "configuration" if any(d.year == year for d in holidays | workdays) else "none"

    def covers(self, year: int) -> bool:
        return self.source(year) in ("notice", "file", "package")


def build(session: Session | None) -> OfficialDays:
    """The days of the deployment's files and (with a session) of the versions in use in the database."""
    sources = {year: Source("file", n) for year, n in notices.shipped().items()}
    if session is not None:
        for year, row in notices.current(session).items():
            sources[year] = Source("notice", notices.parse(row), row.version, row.loaded_at, row.loaded_by)
    return OfficialDays(sources)


_SESSION_KEY = "routing.calendar"
_snapshots: dict[tuple, OfficialDays] = {}
_lock = threading.Lock()
_latest: list[OfficialDays] = []


def official_days(session: Session) -> OfficialDays:
    """The calendar of the session's transaction: found once per transaction (one query for the
    newest notice row), built once per revision and process."""
    days = session.info.get(_SESSION_KEY)
    if days is not None:
        return days
    key = (str(session.get_bind().url), notices.holidays_dir(), notices.revision(session))
    days = _snapshots.get(key)
    if days is None:
        days = build(session)
        with _lock:
            if len(_snapshots) >= 16:
                _snapshots.clear()
            _snapshots[key] = days
    session.info[_SESSION_KEY] = days
    _latest[:] = [days]
    watch(days)
    return days


def use(session: Session, days: OfficialDays) -> None:
    """This transaction computes with `days` from now on (it just loaded a notice)."""
    session.info[_SESSION_KEY] = days


@lru_cache(maxsize=4)
def _shipped_days(directory) -> OfficialDays:
    return build(None)


def shipped_days() -> OfficialDays:
    return _shipped_days(notices.holidays_dir())


def latest() -> OfficialDays:
    """The newest calendar this process read from the database, else the files': for callers with no
    transaction at hand (pass a session whenever there is one)."""
    return _latest[0] if _latest else shipped_days()


def clear_caches() -> None:
    """Forget every calendar built (tests, a changed data folder)."""
    _configured.cache_clear()
    is_working_day.cache_clear()
    _shipped_days.cache_clear()
    notices._files.cache_clear()
    with _lock:
        _snapshots.clear()
    _latest.clear()
    _watched.clear()


def checked_config() -> config.RoutingConfig:
    """Routing's configuration and the notice files, validated when a runtime is built (SPEC.config):
    a broken data/holidays file stops start-up like any other broken configuration file."""
    cfg = config.get()
    notices.shipped()
    return cfg


# ----------------------------------------------------------------------------- coverage warnings


def local_today() -> date:
    return datetime.now(local_zone()).date()


def years_to_watch(today: date) -> list[int]:
    """This year always; the next one from the policy's day (1 November by default)."""
    warn_from = notices.policy().warn_from
    return [today.year, today.year + 1] if (today.month, today.day) >= warn_from else [today.year]


def warnings(days: OfficialDays, today: date) -> list[dict]:
    """A warning for each watched year no notice, file or package covers."""
    fallback = _configured()[2]
    found = []
    for year in years_to_watch(today):
        if days.covers(year):
            continue
        then = ("期间按工作日计算的时限无法设定（uncovered_years = error），派单将失败" if fallback == "error" else
                "工作日暂按周一至周五计算（仅扣除元旦、劳动节、国庆节的法定日期），春节、清明节、端午节、中秋节与调休均未计入")
        when = "已开始" if year <= today.year else f"将于 {year}-01-01 开始"
        found.append({
            "code": "calendar.year_not_covered", "year": year,
            "message": (f"{year} 年{when}，但尚未导入《国务院办公厅关于{year}年部分节假日安排的通知》：{then}。"
                        f"请管理员在通知发布后导入（POST /routing/v1/calendar/notices）。"),
        })
    return found


_watched: set[tuple[date, int]] = set()


def watch(days: OfficialDays, today: date | None = None) -> list[dict]:
    """Log each watched year with no notice, once a day per process (every clock computation asks)."""
    today = today or local_today()
    found = warnings(days, today)
    for w in found:
        if (today, w["year"]) not in _watched:
            _watched.add((today, w["year"]))
            log.warning("calendar: no State Council holiday notice for %s is loaded (uncovered_years=%s); "
                        "load it with POST /routing/v1/calendar/notices", w["year"], _configured()[2])
    return found


def keepers(session: Session) -> list[str]:
    """Who keeps the calendar (access.require_district_level): admins, and supervisors of the root unit."""
    from .models import Staff, Unit

    roots = select(Unit.id).where(Unit.parent_id.is_(None))
    return list(session.scalars(select(Staff.user_id).where(
        (Staff.role == "admin") | ((Staff.role == "supervisor") & Staff.unit_id.in_(roots))).order_by(Staff.user_id)))


def announce_uncovered(session: Session, emit, now: datetime) -> int:
    """Tell the calendar's keepers of each watched year no notice covers, once a week (the clock
    scanner asks at every round; `CalendarWarning` makes it once across workers). A log line alone is
    read by nobody in time: the notice must be loaded before the year's first clocks run."""
    from shared.events.routing import CalendarNotCovered

    today = now.astimezone(local_zone()).date()
    found = warnings(official_days(session), today)
    if not found:
        return 0
    week = today - timedelta(days=today.weekday())
    told = 0
    for w in found:
        if session.get(notices.CalendarWarning, (w["year"], week)) is not None:
            continue
        try:
            with session.begin_nested():
                session.add(notices.CalendarWarning(year=w["year"], week=week, told_at=now))
        except IntegrityError:
            continue  # another worker told them this week
        emit(CalendarNotCovered(year=w["year"], starts=date(w["year"], 1, 1), policy=_configured()[2],
                                keeper_ids=keepers(session), at=now))
        told += 1
    return told


# ----------------------------------------------------------------------------- working time


class WorkCalendar:
    def __init__(self, zone: ZoneInfo | None = None, days: OfficialDays | None = None):
        self.tz = zone or local_zone()
        self.days = days if days is not None else shipped_days()

    @classmethod
    def for_session(cls, session: Session | None) -> "WorkCalendar":
        """The calendar of the transaction's revision (no session: `latest()`)."""
        return cls(days=official_days(session) if session is not None else latest())

    def is_working_day(self, day: date) -> bool:
        return self.days.is_working_day(day)

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def add(self, start: datetime, *, working_days: float = 0, seconds: float = 0) -> datetime:
        """The instant when `working_days` whole working days plus `seconds` of working time
        have passed since `start` (timezone-aware)."""
        return self.add_span(start, timedelta(days=working_days, seconds=seconds))

    def add_span(self, start: datetime, remaining: timedelta) -> datetime:
        """The instant when `remaining` working time has passed since `start`."""
        local = start.astimezone(self.tz)
        day = local.date()
        cursor = local
        # Bounded: a year of rest days in a row does not exist; stop well before spinning forever.
        for _ in range(3700):
            if self.is_working_day(day):
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
            if self.is_working_day(cursor.date()):
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


# ----------------------------------------------------------------------------- a year's days, re-timing


def year_days(days: OfficialDays, year: int) -> Iterator[tuple[date, bool | None]]:
    """Every date of the year and whether it is a working day (None: unknown under the `error` policy)."""
    day = date(year, 1, 1)
    while day.year == year:
        try:
            yield day, days.is_working_day(day)
        except CalendarNotCovered:
            yield day, None
        day += DAY


def changed_days(before: OfficialDays, after: OfficialDays, year: int) -> list[date]:
    old = dict(year_days(before, year))
    return [d for d, working in year_days(after, year) if working != old[d]]


def retime(session: Session, before: OfficialDays, after: OfficialDays, year: int, now: datetime,
           actor_id: str | None, detail: dict) -> int:
    """A new notice of `year` changed which of its days are working days: every running clock counted
    in working time whose span reaches a changed day (and every open order's return window) keeps its
    start and its working time, and gets the deadline and warning instant the new calendar gives them
    (as `clocks.retime` does for an urgency change). Returns how many work orders changed; each gets
    a timeline row `calendar`."""
    changed = changed_days(before, after, year)
    if not changed:
        return 0
    zone = local_zone()
    lo = datetime.combine(changed[0], time(0), tzinfo=zone)
    hi = datetime.combine(changed[-1] + DAY, time(0), tzinfo=zone)
    old, new = WorkCalendar(zone, before), WorkCalendar(zone, after)

    def moved(start: datetime, instant: datetime) -> datetime:
        return new.add_span(start, old.elapsed(start, instant))

    clock_orders = select(Clock.work_order_id).where(
        Clock.stopped_at.is_(None), Clock.working_time.is_(True), Clock.deadline >= lo, Clock.started_at < hi)
    return_window = config.get().clocks.return_window.in_working_time
    reach = WorkOrder.id.in_(clock_orders)
    if return_window:
        reach = reach | ((WorkOrder.return_deadline >= lo) & (WorkOrder.created_at < hi))
    # Orders first, in id order, then their clocks: the API's lock order (order, then its clocks).
    orders = session.scalars(select(WorkOrder).where(reach, WorkOrder.status.in_(OPEN_STATUSES))
                             .order_by(WorkOrder.id).with_for_update()).all()
    touched = 0
    for order in orders:
        changes = {}
        for clock in session.scalars(select(Clock).where(
                Clock.work_order_id == order.id, Clock.stopped_at.is_(None), Clock.working_time.is_(True),
                Clock.deadline >= lo, Clock.started_at < hi).with_for_update()):
            deadline, warn = moved(clock.started_at, clock.deadline), moved(clock.started_at, clock.warn_at)
            if deadline == clock.deadline and warn == clock.warn_at:
                continue
            changes[clock.kind] = {"deadline": deadline.isoformat(), "previous": clock.deadline.isoformat()}
            clock.deadline, clock.warn_at = deadline, warn
            if f"{clock.kind}_deadline" in WorkOrder.__table__.c:  # sign, contact, result: shown on the order
                setattr(order, f"{clock.kind}_deadline", deadline)
            # Fired already and still past: stays fired; otherwise the scanner fires it at its new time.
            clock.warned = clock.warned and warn <= now
            clock.overdue = clock.overdue and deadline <= now
            clock.next_fire_at = None if clock.overdue else (deadline if clock.warned else warn)
        if return_window and order.return_deadline is not None and order.return_deadline >= lo \
                and order.created_at < hi:
            deadline = moved(order.created_at, order.return_deadline)
            if deadline != order.return_deadline:
                changes["return"] = {"deadline": deadline.isoformat(), "previous": order.return_deadline.isoformat()}
                order.return_deadline = deadline
        if changes:
            touched += 1
            timeline(session, order, "calendar", actor_id, {**detail, "deadlines": changes}, now)
    return touched


# ----------------------------------------------------------------------------- what the API shows


def _year(days: OfficialDays, year: int) -> dict:
    source = days.sources.get(year)
    notice = source.notice if source else None
    return {"year": year, "source": days.source(year), "covered": days.covers(year),
            "version": source.version if source else None, "loaded_at": source.loaded_at if source else None,
            "title": notice.title if notice else None, "document_no": notice.document_no if notice else None}


def status(session: Session, today: date | None = None) -> dict:
    """Which years are covered and from where, and the warnings of the years watched (logged too)."""
    days = official_days(session)
    today = today or local_today()
    found = watch(days, today)
    years = sorted(set(days.sources) | {today.year, today.year + 1})
    month, day = notices.policy().warn_from
    return {
        "today": today,
        "policy": {"uncovered_years": _configured()[2], "warn_from": f"{month:02d}-{day:02d}"},
        "package": {"name": "chinesecalendar", "version": chinese_calendar.__version__,
                    "first_year": min(PACKAGE_YEARS, default=None), "last_year": max(PACKAGE_YEARS, default=None)},
        "years": [_year(days, y) for y in years],
        "warning": " ".join(w["message"] for w in found) or None,
        "warnings": found,
    }


def year_view(days: OfficialDays, year: int) -> dict:
    """A year as the clocks count it: its days off on weekdays and its working weekend days."""
    rest, work, unknown, working = [], [], False, 0
    for day, is_work in year_days(days, year):
        if is_work is None:
            unknown = True
            continue
        working += is_work
        if is_work and day.weekday() >= 5:
            work.append(day)
        elif not is_work and day.weekday() < 5:
            rest.append(day)
    source = days.sources.get(year)
    return {**_year(days, year), "working_day_count": None if unknown else working,
            "rest_weekdays": rest, "working_weekend_days": work,
            "notice": source.notice.model_dump(mode="json") if source else None}
