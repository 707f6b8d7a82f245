"""The periods reports are asked for: months, quarters, halves and years in local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared import periods
from shared.errors import ApiError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_quarter_is_its_three_months_between_local_midnights():
    q = periods.parse("2026-Q4")
    assert q.months == ("2026-10", "2026-11", "2026-12")
    assert q.start == datetime(2026, 10, 1, tzinfo=SHANGHAI) and q.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)


def test_a_year_a_half_and_a_month():
    assert periods.parse("2026").months == tuple(f"2026-{m:02d}" for m in range(1, 13))
    assert periods.parse("2026-H1").months[-1] == "2026-06" and periods.parse("2026-H2").months[0] == "2026-07"
    m = periods.parse("2026-02")
    assert m.months == ("2026-02",) and m.end == datetime(2026, 3, 1, tzinfo=SHANGHAI)


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "2026-Q0", "2026-Q5", "2026-H3", "1999", "2100-01",
                                   "26-Q1", "2026-q1", "２０２６", "2026-1", ""])
def test_anything_else_is_a_422_with_the_callers_code(label):
    with pytest.raises(ApiError) as refused:
        periods.parse(label, "report.bad_period")
    assert refused.value.status == 422 and refused.value.code == "report.bad_period"
