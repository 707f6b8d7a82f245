"""Field types every service's request bodies share, each rule in one place.

- `Meaningful`: free text a person typed that must say something (a description, a reason, a result):
  refused if it is only spaces, line breaks or invisible characters (zero-width spaces, a byte-order
  mark), and refused if it holds a control character other than tab and line breaks (a NUL cannot even
  be stored in PostgreSQL). Length bounds stay with each field (`Field(min_length=…, max_length=…)`).
- `When` / `Day`: a time or a day people could mean. A year such as 0001 or 9999 is a typo, and beyond
  what the database can convert to UTC (0001-01-01T00:00+14:00 is before the first instant it holds).
- `Flag`: a yes/no as a JSON boolean only. Pydantic's default takes "0", "no", "off" and 0 as false and
  "yes" as true: a client's "0" must not refuse a mediation for good, nor "no" disable an account.
"""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, StrictBool
from pydantic_core import PydanticCustomError

# The years 2000 to 2100, both included.
EARLIEST, END = datetime(2000, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC)

# C0 and C1 control characters but tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A character one can see: not white space (\s covers the ideographic space U+3000 too), not a format
# character that shows nothing (zero-width spaces and joiners, marks of direction, the byte-order mark,
# the soft hyphen, word joiners).
_VISIBLE = re.compile(r"[^\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")

# Their error types, which shared/errors.py answers as validation.blank and validation.control_character.
BLANK, CONTROL = "text_blank", "text_control"


def meaningful(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError(CONTROL, "contains a control character")
    if not _VISIBLE.search(value):
        raise PydanticCustomError(BLANK, "must not be blank")
    return value


def sane_time(value: datetime) -> datetime:
    if not EARLIEST <= value < END:
        raise ValueError("within the years 2000 to 2100")
    return value


def sane_day(value: date) -> date:
    if not EARLIEST.date() <= value < END.date():
        raise ValueError("within the years 2000 to 2100")
    return value


Meaningful = Annotated[str, AfterValidator(meaningful)]
When = Annotated[AwareDatetime, AfterValidator(sane_time)]
Day = Annotated[date, AfterValidator(sane_day)]
Flag = StrictBool
