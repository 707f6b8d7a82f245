"""The periods leaders ask figures for: a month (`2026-11`), a quarter (`2026-Q4`), a half year
(`2026-H2`) or a year (`2026`), in local time.

Monthly figures are kept per month (routing's `work_orders.period`), so a longer period is the tuple
of its months and every report of any length is the same query over `IN (months)`. The bounds are
local midnights (`shared.config.local_zone()`): a case filed at 23:30 on 31 March belongs to Q1 in
Beijing although it is 31 March 15:30 UTC either way.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from .config import local_zone
from .errors import ApiError

# Figures exist from 2000 on; a year outside the range (0000, 9999) is a refusal, not a crash
# computing its end.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_FORM = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$", re.ASCII)
# What a query parameter's schema says: the shape only, so `2026-13` reaches `parse` and gets the
# service's own code (`scores.bad_period`) rather than a generic validation error.
PATTERN = r"^\d{4}(-(\d{2}|[QH]\d))?$"
EXAMPLES = ["2026-11", "2026-Q4", "2026-H2", "2026"]
DESCRIPTION = ("统计期：月 YYYY-MM、季度 YYYY-Qn、半年 YYYY-Hn 或年度 YYYY（当地时间） "
               "period: month, quarter, half or year")


@dataclass(frozen=True)
class Period:
    label: str
    months: tuple[str, ...]  # YYYY-MM, in order
    start: datetime  # local midnight of the first day, inclusive
    end: datetime  # local midnight after the last day, exclusive


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=local_zone())


def month_start(month: str) -> datetime:
    """Local midnight of the first day of a month `YYYY-MM`."""
    return _month_start(int(month[:4]), int(month[5:7]))


def parse(label: str, code: str = "period.bad_period", field: str = "period") -> Period:
    """The period a label names; 422 `code` on `field` when it names none."""
    if not isinstance(label, str) or not _FORM.match(label) or not FIRST_YEAR <= int(label[:4]) <= LAST_YEAR:
        raise ApiError(422, code, field=field)
    year, rest = int(label[:4]), label[5:]
    if not rest:
        first, count = 1, 12
    elif rest[0] == "Q":
        first, count = 3 * (int(rest[1]) - 1) + 1, 3
    elif rest[0] == "H":
        first, count = 6 * (int(rest[1]) - 1) + 1, 6
    else:
        first, count = int(rest), 1
    months = tuple(f"{year}-{m:02d}" for m in range(first, first + count))
    return Period(label, months, _month_start(year, first), _month_start(year, first + count))
