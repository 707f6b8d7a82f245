"""Reading an uploaded CSV or XLSX (shared/spreadsheets.py), as identity's roster and the grid's register
imports do: Chinese Excel's encodings, cells as text, and the bounds a hostile file is held to."""

import io
import struct
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from shared.spreadsheets import CSV_TYPES, MAX_COLUMNS, XLSX_TYPE, SheetRefused, read_table

LIMITS = {"max_bytes": 1_000_000, "max_unpacked_bytes": 5_000_000, "max_rows": 10}
ROWS = [["用户名", "姓名", "单位代码"], ["zhou.jiu", "周九", "510107001001000"]]


def csv_text(rows) -> str:
    return "".join(",".join(row) + "\r\n" for row in rows)


def xlsx_of(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def refusal(content_type, data, **limits) -> SheetRefused:
    with pytest.raises(SheetRefused) as refused:
        read_table(content_type, data, **{**LIMITS, **limits})
    return refused.value


def test_a_csv_excel_saved_in_gbk_is_read():
    data = csv_text(ROWS).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert read_table("text/csv; charset=gbk", data, **LIMITS) == ROWS


def test_a_utf8_csv_with_the_byte_order_mark_excel_writes_loses_the_mark():
    data = csv_text(ROWS).encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_table("text/csv", data, **LIMITS)
    assert table == ROWS and table[0][0] == "用户名"


def test_csv_cells_are_stripped_and_blank_rows_kept_for_the_row_numbers():
    table = read_table("application/csv", b" a , b \r\n\r\nc,d\r\n", **LIMITS)
    assert table == [["a", "b"], [], ["c", "d"]]


def test_an_xlsx_first_sheet_is_read_as_text_every_row_as_wide_as_the_columns_read():
    rows = [["单位代码", "启用", "入住日期", "人数", "备注"],
            [510107001001000.0, True, datetime(2024, 3, 1), 2.5, "  有空格  "],
            [None, False, date(2023, 12, 31), 3, None]]
    read = read_table(XLSX_TYPE, xlsx_of(rows), **LIMITS)
    assert {len(row) for row in read} == {MAX_COLUMNS} and not any(v for row in read for v in row[5:])
    table = [row[:5] for row in read]
    assert table == [["单位代码", "启用", "入住日期", "人数", "备注"],
                     ["510107001001000", "true", "2024-03-01", "2.5", "有空格"],
                     ["", "false", "2023-12-31", "3", ""]]


def test_an_xlsx_is_read_one_row_past_what_the_caller_accepts():
    rows = [["h"]] + [[str(i)] for i in range(50)]
    table = read_table(XLSX_TYPE, xlsx_of(rows), **{**LIMITS, "max_rows": 10})
    assert len(table) == 12 and table[-1][0] == "10"  # the header, 10 rows and the one too many


def test_a_cell_far_to_the_right_does_not_widen_every_row():
    book = Workbook()
    book.active.append(["a", "b"])
    book.active.cell(row=1, column=16384, value="far")
    out = io.BytesIO()
    book.save(out)
    table = read_table(XLSX_TYPE, out.getvalue(), **LIMITS)
    assert len(table[0]) == MAX_COLUMNS and table[0][:2] == ["a", "b"] and "far" not in table[0]


def test_a_zip_bomb_is_refused_by_the_sizes_its_members_declare():
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"a" * 6_000_000})
    assert len(bomb) < 100_000 < LIMITS["max_bytes"]
    refused = refusal(XLSX_TYPE, bomb)
    assert refused.status == 413 and "XLSX" in refused.problems[0]


def test_a_member_declaring_a_huge_size_is_refused_whatever_it_holds():
    small = zip_of({"xl/worksheets/sheet1.xml": b"<worksheet/>"})
    at = small.index(b"PK\x01\x02") + 24  # the central directory's uncompressed size
    forged = small[:at] + struct.pack("<I", 3_000_000_000) + small[at + 4:]
    assert refusal(XLSX_TYPE, forged).status == 413


def test_many_members_each_small_are_refused_when_together_too_large():
    many = zip_of({f"xl/media/image{i}.bin": b"b" * 1_500_000 for i in range(4)})
    assert refusal(XLSX_TYPE, many).status == 413
    assert refusal(XLSX_TYPE, many, max_unpacked_bytes=6_000_000).status == 422  # within the sum: not an XLSX


@pytest.mark.parametrize("body", [b"username,display_name\nx,y\n", b"PK\x03\x04 truncated", b"\x00" * 64])
def test_a_body_declared_xlsx_that_is_no_zip_is_unreadable(body):
    refused = refusal(XLSX_TYPE, body)
    assert refused.status == 422 and refused.problems == ["无法读取 XLSX 文件（不是有效的 XLSX/ZIP 文件）"]


def test_a_csv_in_neither_encoding_is_unreadable():
    refused = refusal("text/csv", b"\xff\xfe\x00\xd8\x00\xdc\x81\x30\x81")
    assert refused.status == 422 and "编码" in refused.problems[0]


def test_a_csv_with_a_field_beyond_the_csv_modules_limit_is_unreadable():
    refused = refusal("text/csv", b"a,b\n" + b"c" * 200_000 + b",d\n")
    assert refused.status == 422 and refused.problems[0].startswith("CSV 格式错误")


@pytest.mark.parametrize("content_type", ["application/json", "", None, "text/plain", "application/vnd.ms-excel"])
def test_anything_but_csv_or_xlsx_is_the_wrong_type(content_type):
    refused = refusal(content_type, b"a,b\n")
    assert refused.status == 415 and refused.problems == []


def test_the_media_type_is_matched_without_its_parameters_or_case():
    assert "text/csv" in CSV_TYPES
    assert read_table("Text/CSV; charset=utf-8", b"a,b\n", **LIMITS) == [["a", "b"]]


def test_a_body_over_the_limit_is_too_large_before_it_is_parsed():
    refused = refusal("text/csv", b"\xff" * 101, max_bytes=100)
    assert refused.status == 413 and refused.problems == []


def test_an_empty_file_is_refused_as_empty():
    for content_type in ("text/csv", XLSX_TYPE):
        refused = refusal(content_type, b"")
        assert refused.status == 422 and refused.problems == ["文件为空"]


def test_blank_rows_in_an_xlsx_do_not_hide_the_rows_after_them_from_the_row_limit():
    # Two data rows, a gap of blank rows, five more: the rows after the gap are read, so a caller allowing
    # three sees too many and refuses the file, instead of importing two and dropping five in silence.
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "电话"])
    for i in range(2):
        sheet.append([f"甲{i}", "13800000000"])
    for i in range(5):
        sheet.cell(row=40 + i, column=1, value=f"乙{i}")
    out = io.BytesIO()
    book.save(out)
    table = read_table(XLSX_TYPE, out.getvalue(), **{**LIMITS, "max_rows": 3})
    filled = [row for row in table[1:] if any(row)]
    assert len(filled) > 3 and filled[-1][0].startswith("乙")
