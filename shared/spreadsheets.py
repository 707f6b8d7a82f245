"""Reading an uploaded spreadsheet (CSV or XLSX) as a table of text, with the bounds a hostile file needs.
Writing one is shared/exports.py.

`read_table` is what identity's staff roster and the grid's register imports read their files with; each
keeps its own header names, required columns and row checks, and answers a `SheetRefused` in its own
error codes (415 wrong type, 413 too large, 422 unreadable: `problems` are the Chinese lines of its detail).

- CSV: UTF-8 (with or without the BOM Excel writes) else GB 18030, a superset of the GBK that Excel in
  Chinese saves a CSV as.
- XLSX: an XLSX is a zip archive, and one a few kilobytes long may unpack to gigabytes (a zip bomb).
  Before openpyxl reads a byte of it, the sizes its members declare are summed and a file over
  `max_unpacked_bytes` refused. Python's zipfile, which openpyxl reads through, never gives more of a
  member than its declared size, so the sum bounds what is unpacked. Only the first sheet, its first
  MAX_COLUMNS columns and max_rows + 2 rows are read (the header, and one row more than a caller accepts,
  so that it can tell a file is too long).
"""

import csv
import io
import zipfile
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

CSV_TYPES = frozenset({"text/csv", "application/csv"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# One cell far to the right (XFD1) would otherwise pad every row to 16,384 cells, a tiny file costing
# gigabytes; columns further right than this are not read.
MAX_COLUMNS = 200


class SheetRefused(Exception):
    """A file not read: 415 not CSV or XLSX, 413 too large (as sent, or once unpacked), 422 unreadable or
    empty. `problems` are Chinese lines for the caller's error detail (none for 415 and a too large body)."""

    def __init__(self, status: int, problems: list[str] | None = None):
        super().__init__(status, problems)
        self.status = status
        self.problems = list(problems or [])


def cell(value) -> str:
    """An XLSX cell's value as the text a CSV of the same sheet would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or a count typed as a number: Excel stores it as a float
    if isinstance(value, datetime):
        return value.date().isoformat()  # Excel stores a date as a datetime at midnight
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetRefused(422, ["无法识别文件编码（请使用 UTF-8 或 GBK）"])
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:  # the csv module's messages name the fault, never a cell's value
        raise SheetRefused(422, [f"CSV 格式错误：{exc}"]) from None


def refuse_bomb(data: bytes, max_unpacked_bytes: int) -> None:
    """413 for an archive whose members declare more than `max_unpacked_bytes` together; 422 for a body
    that is no zip archive (so no XLSX)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, ValueError, EOFError):
        raise SheetRefused(422, ["无法读取 XLSX 文件（不是有效的 XLSX/ZIP 文件）"]) from None
    if unpacked > max_unpacked_bytes:
        raise SheetRefused(413, ["XLSX 解压后过大 the XLSX unpacks too large"])


MAX_BLANK_ROWS = 10_000  # blank rows between filled ones read, beyond the caller's row limit


def xlsx_rows(data: bytes, *, max_unpacked_bytes: int, max_rows: int) -> list[list[str]]:
    refuse_bomb(data, max_unpacked_bytes)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows, filled, blank = [], 0, 0
            for values in book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True):
                row = [cell(v) for v in values]
                rows.append(row)
                # Only filled rows count towards the caller's limit, so a sheet with gaps is never cut
                # short in silence (the rows after the cut would have been dropped, the rest imported);
                # gaps have a bound of their own, since openpyxl turns each into a full empty row.
                if any(row):
                    filled += 1
                else:
                    blank += 1
                if filled >= max_rows + 2 or blank > max_rows + MAX_BLANK_ROWS:
                    break
            return rows
        finally:
            book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, OSError, ValueError):
        raise SheetRefused(422, ["无法读取 XLSX 文件"]) from None


def read_table(content_type: str | None, data: bytes, *, max_bytes: int, max_unpacked_bytes: int,
               max_rows: int) -> list[list[str]]:
    """The file's rows as lists of stripped text, the header first, blank rows kept (callers number rows
    as the spreadsheet does). `max_rows` data rows are what the caller accepts: an XLSX is read no further
    than one past them, a CSV whole (its size is bounded by `max_bytes`)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES and kind != XLSX_TYPE:
        raise SheetRefused(415)
    if len(data) > max_bytes:
        raise SheetRefused(413)
    if not data:
        raise SheetRefused(422, ["文件为空"])
    if kind == XLSX_TYPE:
        return xlsx_rows(data, max_unpacked_bytes=max_unpacked_bytes, max_rows=max_rows)
    return csv_rows(data)
