"""Import of the register from the spreadsheets streets already keep (CSV or XLSX, the request body being the
file itself, as identity's roster import): all or nothing. Every row is checked (fields as the API checks them,
the grid in the importer's scope, the parent found) and every bad row reported — the row number and what is
wrong, never a value — and nothing is imported when one is bad.

Columns are the kind's field names, in English or in the Chinese of the usual sheets (姓名, 身份证号, 联系电话 …);
`grid_code`/网格代码 (else the query's grid), and for a parent `building`/楼栋 and `room`/门牌 (a household of a
person, a rental of a tenant are found by building and room; a building by its name).

The file is read by shared/spreadsheets.py (as identity's roster is), with the grid's own limits: it bounds
what an XLSX unpacks before openpyxl reads a byte (a zip bomb) and reads at most 200 columns.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError, message
from shared.spreadsheets import XLSX_TYPE as XLSX_TYPE  # the import endpoint documents it
from shared.spreadsheets import SheetRefused, read_table
from shared.uow import Emit

from . import config, register
from .models import Entry

HEADERS = {
    "网格代码": "grid_code", "网格": "grid_code", "楼栋": "building", "楼栋名称": "building", "地址名称": "name",
    "门牌": "room", "室号": "room", "门牌室号": "room", "名称": "name", "单位名称": "name", "地址": "address",
    "门牌地址": "address", "层数": "floors", "备注": "note", "户主": "head_name", "户主姓名": "head_name",
    "电话": "phone", "联系电话": "phone", "手机": "phone", "在住人数": "members", "类别": "category",
    "人员类别": "category", "姓名": "name", "身份证号": "id_number", "身份证号码": "id_number", "住址": "address",
    "性别": "gender", "监护人": "guardian_name", "监护人电话": "guardian_phone", "情况说明": "note",
    "房东": "landlord_name", "房东姓名": "landlord_name", "房东电话": "landlord_phone", "出租间数": "rooms",
    "户籍地": "origin", "入住日期": "moved_in", "搬离日期": "moved_out", "单位类型": "org_kind",
    "统一社会信用代码": "licence_no", "联系人": "contact_name", "联系人电话": "contact_phone",
}


@dataclass
class Report:
    kind: str
    total: int
    created: list[str]
    dry_run: bool


def _invalid(problems: list[str]) -> ApiError:
    return ApiError(422, "import.invalid", field="file", detail="\n".join(problems))


def _refused(refused: SheetRefused) -> ApiError:
    if refused.status == 415:
        return ApiError(415, "import.bad_type", field="content_type")
    if refused.status == 413:
        return ApiError(413, "import.too_large", field="file", detail="\n".join(refused.problems) or None)
    return _invalid(refused.problems)


def read(content_type: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, row by column) pairs, the header being row 1; blank rows skipped."""
    rules = config.get().rules
    try:
        table = read_table(content_type, data, max_bytes=rules.import_max_bytes,
                           max_unpacked_bytes=rules.import_max_unpacked_bytes, max_rows=rules.import_max_rows)
    except SheetRefused as refused:
        raise _refused(refused) from None
    if not table or not any(table[0]):
        raise _invalid(["第1行应为表头"])
    header = [HEADERS.get(h.strip(), h.strip().lower()) for h in table[0]]
    rows = [(n, {name: (values[i] if i < len(values) else "") for i, name in enumerate(header) if name})
            for n, values in enumerate(table[1:], start=2) if any(v for v in values)]
    if not rows:
        raise _invalid(["没有数据行"])
    if len(rows) > rules.import_max_rows:
        raise _invalid([f"超过{rules.import_max_rows}行，请分批导入"])
    return rows


def _find(session: Session, kind: str, grid_code: str, label: str) -> list[Entry]:
    return list(session.scalars(select(Entry).where(Entry.kind == kind, Entry.grid_code == grid_code,
                                                    Entry.label == label, Entry.active.is_(True))))


def _parent_of(session: Session, kind: str, grid_code: str, row: dict) -> tuple[str | None, str | None]:
    """(parent id, problem) from the row's building (and room) columns."""
    building, room = row.pop("building", "").strip(), row.pop("room", "").strip() if kind in ("person", "tenant") \
        else ""
    if kind not in register.PARENTS or not building:
        return (None, "缺少所属楼栋和门牌（building、room）") if kind in register.REQUIRED_PARENT else (None, None)
    buildings = _find(session, "building", grid_code, building)
    if len(buildings) != 1:
        return None, "所属楼栋在该网格中不存在或不唯一"
    if kind in ("household", "rental"):
        return buildings[0].id, None
    parent_kind = register.PARENTS[kind][0]
    candidates = [e for e in _find(session, parent_kind, grid_code, room) if e.parent_id == buildings[0].id]
    if len(candidates) != 1:
        return None, "所属住户或出租屋（楼栋+门牌）不存在或不唯一"
    return candidates[0].id, None


def import_rows(session: Session, emit: Emit, kind: str, rows: list[tuple[int, dict[str, str]]],
                default_grid: str | None, allowed_grids: frozenset[str] | None, by_id: str, now,
                dry_run: bool) -> Report:
    """Checks every row, then creates them all, or none (422 import.invalid listing each bad row)."""
    problems: list[str] = []
    ready: list[tuple[str, str | None, dict]] = []
    seen_ids: dict[str, int] = {}
    known = set(register.FIELDS[kind].model_fields)
    for n, raw in rows:
        row = {k: v for k, v in raw.items() if v != ""}
        grid_code = row.pop("grid_code", None) or default_grid
        bad = []
        if grid_code is None:
            bad.append("缺少网格代码")
        elif allowed_grids is not None and grid_code not in allowed_grids:
            bad.append("网格不在您的负责范围内")
        parent_id, problem = _parent_of(session, kind, grid_code, row) if grid_code else (None, None)
        if problem:
            bad.append(problem)
        unknown = sorted(set(row) - known)
        if unknown:
            bad.append("未知的列：" + "、".join(unknown))
        fields = {k: v for k, v in row.items() if k in known}
        if kind == "person" and "category" in fields:
            by_name = {c.name: c.code for c in config.get().categories.categories}
            fields["category"] = by_name.get(fields["category"], fields["category"])
        try:
            data = register.checked(kind, fields)
            if data.get("id_number"):
                if data["id_number"] in seen_ids:
                    bad.append(f"身份证号与第{seen_ids[data['id_number']]}行重复")
                seen_ids.setdefault(data["id_number"], n)
        except ApiError as exc:
            # The sheet's column, as the sheet names it (the API's error says fields.<column>).
            bad.append(f"{(exc.field or '').removeprefix('fields.')}：{_reason(exc.code)}")
        if bad:
            problems.append(f"第{n}行：" + "；".join(bad))
        else:
            ready.append((grid_code, parent_id, data))
    if problems:
        raise _invalid(problems)
    created = []
    if not dry_run:
        for grid_code, parent_id, data in ready:
            entry = register.create(session, emit, kind, grid_code, parent_id, data, by_id, now, None,
                                    action="imported")
            created.append(entry.id)
    return Report(kind, len(rows), created, dry_run)


def _reason(code: str) -> str:
    return message(code, english=False)
