"""The State Council's holiday notices as data (国务院办公厅关于某年部分节假日安排的通知, issue 12).

Each year's notice lists the holidays (放假, each a range of days, weekends inside included) and the
swapped working days (调休上班, always a Saturday or Sunday); every other day of the year follows the
weekday rule (Monday to Friday work, Saturday and Sunday rest). So a notice classifies every date of
its year, and `days()` gives the ones that differ from the weekday rule.

Two places hold notices, in the same JSON shape (`Notice`):
- the database (`calendar_notices`): loaded by an admin over the API, each load a new version of its
  year, kept with who and when; the newest version of a year is the one in use;
- the deployment's files `data/holidays/YYYY.json` (the shipped 2026 notice), checked at start-up.
A year's newest loaded version wins over its file; either wins over the chinesecalendar package
(workcalendar.py builds the calendar from them).

A notice is refused, with every problem named, when a date lies outside its year, a date is listed
twice, two holidays overlap, a swapped working day is a weekday or falls inside a holiday, a range
ends before it starts or runs longer than MAX_RANGE_DAYS, or a statutory holiday on a fixed date
(calendar.json `fixed_holidays`: 元旦, 劳动节, 国庆节 by law) would be a working day.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import Date, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared import config as shared_config
from shared.db import BigIntId, UTCDateTime
from shared.errors import ApiError

from . import config
from .models import Base

FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_RANGE_DAYS = 14  # the longest break ever announced is 9 days (春节); more is a typing error
DAY = timedelta(days=1)


class CalendarNotice(Base):
    """One loaded version of a year's notice. Rows are only ever added: the newest of a year is used."""

    __tablename__ = "calendar_notices"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the year
    document: Mapped[str] = mapped_column(Text)  # the notice as loaded (JSON, `Notice`)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the normalised notice
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarWarning(Base):
    """A week in which the calendar's keepers were told a year is not covered (one row per year and
    week: the primary key makes the telling happen once, whichever worker scans first)."""

    __tablename__ = "calendar_warnings"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)  # its Monday, in local time
    told_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ----------------------------------------------------------------------------- the document

Name = Annotated[str, StringConstraints(min_length=1, max_length=20, strip_whitespace=True)]


class Holiday(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="节日名称 The holiday, as the notice names it (元旦, 春节, 清明节, ...)",
                       examples=["春节"])
    first: date = Field(description="放假第一天 First day off")
    last: date | None = Field(None, description="放假最后一天（含；一天的假期可省略）Last day off, inclusive")
    workdays: list[date] = Field([], max_length=7,
                                 description="调休上班日（周六或周日）The swapped working days of this holiday")

    @property
    def end(self) -> date:
        return self.last or self.first


class Notice(config.Data):
    """国务院办公厅关于某年部分节假日安排的通知, as data: the POST body and the files' format (a file's
    "_comment" keys are dropped, as in every data file: the file may be posted as it is)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{
        "year": 2027, "title": "国务院办公厅关于2027年部分节假日安排的通知", "document_no": "国办发明电〔2026〕X号",
        "holidays": [{"name": "元旦", "first": "2027-01-01", "last": "2027-01-03"},
                     {"name": "春节", "first": "2027-02-05", "last": "2027-02-13", "workdays": ["2027-02-20"]}]}]})

    year: int = Field(strict=True, ge=FIRST_YEAR, le=LAST_YEAR, description="年度 The year the notice arranges")
    title: str | None = Field(None, max_length=200, description="通知标题 The notice's title")
    document_no: str | None = Field(None, max_length=100, description="文号 Its number, e.g. 国办发明电〔2025〕7号")
    published_on: date | None = Field(None, description="发布日期 When it was published")
    holidays: list[Holiday] = Field(min_length=1, max_length=20,
                                    description="各节日放假与调休安排 Each holiday: days off, swapped working days")
    note: str | None = Field(None, max_length=500, description="导入说明（如更正原因）Why this version is loaded")


@dataclass(frozen=True)
class Problem:
    code: str  # a stable error code (errors.py)
    field: str  # where, e.g. holidays[1].workdays[0]
    text: str  # what, in Chinese


def _cn(day: date) -> str:
    return f"{day.isoformat()}（星期{'一二三四五六日'[day.weekday()]}）"


def problems(notice: Notice, fixed_holidays: list[str] | None = None) -> list[Problem]:
    """Everything wrong with a notice (empty when it can be loaded)."""
    fixed = config.get().calendar.fixed_holidays if fixed_holidays is None else fixed_holidays
    found: list[Problem] = []
    year = notice.year
    rest: dict[date, str] = {}  # day off → the holiday's field
    work: dict[date, str] = {}  # swapped working day → its field
    names: dict[str, str] = {}

    def problem(code: str, where: str, text: str) -> None:
        found.append(Problem(code, where, f"{where}：{text}"))

    def outside(day: date, where: str) -> bool:
        if day.year == year:
            return False
        problem("calendar.date_outside_year", where,
                f"{day.isoformat()} 不在 {year} 年内（其他年份的日期请在该年度的通知中导入）")
        return True

    for i, h in enumerate(notice.holidays):
        at = f"holidays[{i}]"
        if h.name in names:
            problem("calendar.duplicate_date", f"{at}.name", f"节日“{h.name}”重复列出（另见 {names[h.name]}）")
        names.setdefault(h.name, at)
        bad = outside(h.first, f"{at}.first") | (h.last is not None and outside(h.last, f"{at}.last"))
        length = (h.end - h.first).days + 1
        if bad:
            pass
        elif length < 1:
            problem("calendar.contradiction", f"{at}.last",
                    f"{h.name}放假结束日 {h.end.isoformat()} 早于开始日 {h.first.isoformat()}")
        elif length > MAX_RANGE_DAYS:
            problem("calendar.contradiction", f"{at}.last",
                    f"{h.name}放假 {length} 天，超过 {MAX_RANGE_DAYS} 天，请核对日期")
        else:
            clash = next((h.first + k * DAY for k in range(length) if h.first + k * DAY in rest), None)
            if clash is not None:
                problem("calendar.overlap", at, f"{h.name}的放假日 {clash.isoformat()} 与 {rest[clash]} 重叠")
            for k in range(length):
                rest.setdefault(h.first + k * DAY, at)
        for j, w in enumerate(h.workdays):
            where = f"{at}.workdays[{j}]"
            if outside(w, where):
                continue
            if w in work:
                problem("calendar.duplicate_date", where, f"调休上班日 {w.isoformat()} 重复列出（另见 {work[w]}）")
                continue
            work[w] = where
            if w.weekday() < 5:
                problem("calendar.contradiction", where, f"调休上班日 {_cn(w)} 本来就是工作日（应为周六或周日）")
    for w, where in work.items():
        if w in rest:
            problem("calendar.contradiction", where, f"{w.isoformat()} 既是放假日（{rest[w]}）又是调休上班日")
    for mmdd in fixed:
        try:
            day = date(year, int(mmdd[:2]), int(mmdd[3:]))
        except ValueError:  # 02-29 of a common year
            continue
        if (day.weekday() < 5 and day not in rest) or day in work:
            problem("calendar.contradiction", "holidays",
                    f"法定节假日 {_cn(day)} 在通知中是工作日（全国年节及纪念日放假办法）")
    return found


def check(notice: Notice) -> None:
    """Refuse a notice with any problem: the first one's code and field, every problem in the detail."""
    found = problems(notice)
    if found:
        raise ApiError(422, found[0].code, field=found[0].field, detail="；".join(p.text for p in found))


def days(notice: Notice) -> dict[date, bool]:
    """The days of the notice's year that differ from the weekday rule: True a working day."""
    out: dict[date, bool] = {}
    for h in notice.holidays:
        day = h.first
        while day <= h.end:
            if day.weekday() < 5:
                out[day] = False
            day += DAY
        for w in h.workdays:
            out[w] = True
    return out


def normalised(notice: Notice) -> str:
    return json.dumps(notice.model_dump(mode="json", exclude_none=True), ensure_ascii=False, sort_keys=True)


def digest(notice: Notice) -> str:
    return hashlib.sha256(normalised(notice).encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------- the files


def holidays_dir() -> Path:
    return config.data_dir() / "holidays"


@dataclass(frozen=True)
class Policy:
    """data/holidays/policy.json: from which day of the year (MM-DD) the next year's missing notice is
    warned about (default 11-01: the State Council publishes in late October or November)."""

    warn_from: tuple[int, int] = (11, 1)


@lru_cache(maxsize=8)
def _files(directory: Path) -> tuple[dict[int, Notice], Policy]:
    notices: dict[int, Notice] = {}
    policy = Policy()
    if not directory.is_dir():
        return notices, policy
    for path in sorted(directory.glob("*.json")):
        raw = shared_config.read_json(path)
        if path.stem == "policy":
            warn_from = raw.get("warn_from", "11-01")
            try:
                month, day = int(warn_from[:2]), int(warn_from[3:])
                date(2001, month, day)
            except (TypeError, ValueError):
                raise ValueError(f"{path}: warn_from must be MM-DD, not {warn_from!r}") from None
            policy = Policy((month, day))
            continue
        if not (path.stem.isdigit() and len(path.stem) == 4):
            raise ValueError(f"{path}: a notice's file is named after its year (YYYY.json)")
        try:
            notice = Notice.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"{path}: {exc}") from None
        if notice.year != int(path.stem):
            raise ValueError(f"{path}: the notice is of {notice.year}")
        found = problems(notice)
        if found:
            raise ValueError(f"{path}: " + "；".join(p.text for p in found))
        notices[notice.year] = notice
    return notices, policy


def shipped() -> dict[int, Notice]:
    """The deployment's notice files, by year (validated; a broken file raises ValueError naming it)."""
    return _files(holidays_dir())[0]


def policy() -> Policy:
    return _files(holidays_dir())[1]


# ----------------------------------------------------------------------------- the database


@dataclass(frozen=True)
class Revision:
    """What identifies the database's set of notices: the newest row (rows are only ever added)."""

    last_id: int
    last_digest: str


def revision(session: Session) -> Revision:
    row = session.execute(select(CalendarNotice.id, CalendarNotice.digest)
                          .order_by(CalendarNotice.id.desc()).limit(1)).first()
    return Revision(row.id, row.digest) if row else Revision(0, "")


def current(session: Session) -> dict[int, CalendarNotice]:
    """The version in use of every year loaded: its newest."""
    newest = (select(CalendarNotice.year, func.max(CalendarNotice.version).label("version"))
              .group_by(CalendarNotice.year).subquery())
    rows = session.scalars(select(CalendarNotice).join(
        newest, (CalendarNotice.year == newest.c.year) & (CalendarNotice.version == newest.c.version)))
    return {r.year: r for r in rows}


def parse(row: CalendarNotice) -> Notice:
    return Notice.model_validate_json(row.document)


def versions(session: Session, year: int | None) -> list[CalendarNotice]:
    stmt = select(CalendarNotice).order_by(CalendarNotice.year, CalendarNotice.version)
    if year is not None:
        stmt = stmt.where(CalendarNotice.year == year)
    return list(session.scalars(stmt))


def store(session: Session, notice: Notice, loaded_by: str, now: datetime) -> CalendarNotice:
    """A new version of the notice's year (already checked). Two loads of a year at once: one is
    refused with 409 rather than both taking the same version number."""
    previous = session.scalar(select(func.max(CalendarNotice.version)).where(CalendarNotice.year == notice.year))
    row = CalendarNotice(year=notice.year, version=(previous or 0) + 1, document=normalised(notice),
                         digest=digest(notice), loaded_by=loaded_by, loaded_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the request's transaction is rolled back with the refusal
        raise ApiError(409, "calendar.concurrent_load", field="year") from None
    return row
