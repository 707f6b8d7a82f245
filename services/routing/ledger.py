"""台账: work orders as CSV or XLSX, with filters. No personal data: ids and the matter only; the
free text staff typed (why an order was excluded or reassigned) with its phones and ID numbers
masked for readers without the need to see them. Every cell of both formats goes through
`spreadsheet.cell`: text a spreadsheet would run as a formula is exported as text."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from openpyxl import Workbook
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shared.config import local_zone
from shared.errors import ApiError
from shared.exports import MEDIA_TYPES, cell
from shared.masking import mask_free_text

from .directory import under
from .models import STATUS_ZH, Unit, WorkOrder
from .scores import check_period

COLUMNS = [
    ("case_no", "诉求编号"), ("work_order_id", "工单编号"), ("role", "主办/协办"), ("unit_code", "承办单位代码"),
    ("unit_name", "承办单位"), ("category", "类别"), ("urgency", "紧急程度"), ("status", "状态"),
    ("dispatch_no", "派单次数"), ("rule", "派单依据"), ("dispatched_at", "派单时间"), ("signed_at", "签收时间"),
    ("contacted_at", "首次联系时间"), ("resolved_at", "办结时间"), ("closed_at", "结案时间"),
    ("result_deadline", "办理时限"), ("sign_late", "签收超时"), ("contact_late", "联系超时"),
    ("result_late", "办结超时"), ("outcome", "办理结果"), ("evaluated", "已评价"), ("solved", "已解决"),
    ("satisfaction", "满意度"), ("excluded", "不计入考核"), ("exclusion_reason", "不计入原因"),
    # Issue 12: what the order is for (only 办件 counts in 三率), whether a suggestion was adopted, and
    # whether the requester answered the callback that nobody contacted her.
    ("kind", "工单类型"), ("adopted", "建议是否采纳"), ("contact_denied", "诉求人称未联系"),
    # Issue 13: the order number of the 12345 platform the case came from (last, so columns keep their places).
    ("external_no", "12345工单编号"),
]
KIND_ZH = {"work": "办件", "praise": "表扬", "suggestion": "建议", "guidance": "私事引导"}

# Columns holding what staff typed: masked with shared.masking.mask_free_text unless the reader may
# see personal data.
FREE_TEXT = ("rule", "exclusion_reason")


def query(period: str | None = None, unit_path: str | tuple[str, ...] | None = None, status: str | None = None,
          category: str | None = None) -> Select:
    """`unit_path`: the subtrees exported (unit path prefixes); None for the whole tree."""
    stmt = select(WorkOrder, Unit).join(Unit, Unit.id == WorkOrder.unit_id).order_by(WorkOrder.created_at)
    if period:
        stmt = stmt.where(WorkOrder.period.in_(check_period(period)))
    if unit_path is not None:
        stmt = stmt.where(under(Unit.path, unit_path))
    if status:
        stmt = stmt.where(WorkOrder.status == status)
    if category:
        stmt = stmt.where(WorkOrder.category.startswith(category))
    return stmt


def _fmt(value, tz):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "astimezone"):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return value


def rows(session: Session, stmt: Select, personal_text: bool = False) -> Iterator[list]:
    tz = local_zone()
    for order, unit in session.execute(stmt.execution_options(yield_per=1000)):
        values = {
            "case_no": order.case_no, "work_order_id": order.id, "role": "主办" if order.role == "lead" else "协办",
            "unit_code": unit.code, "unit_name": unit.name, "category": order.category, "urgency": order.urgency,
            "status": STATUS_ZH.get(order.status, order.status), "dispatch_no": order.dispatch_no,
            "rule": order.rule, "dispatched_at": order.created_at, "signed_at": order.signed_at,
            "contacted_at": order.contacted_at, "resolved_at": order.resolved_at, "closed_at": order.closed_at,
            "result_deadline": order.result_deadline, "sign_late": order.sign_late,
            "contact_late": order.contact_late, "result_late": order.result_late, "outcome": order.outcome,
            "evaluated": order.evaluated, "solved": order.solved, "satisfaction": order.satisfaction,
            "excluded": order.excluded, "exclusion_reason": order.exclusion_reason,
            "kind": KIND_ZH.get(order.kind, order.kind), "adopted": order.adopted,
            "contact_denied": order.contact_denied, "external_no": order.external_no,
        }
        if not personal_text:
            for k in FREE_TEXT:
                values[k] = mask_free_text(values[k])
        yield [cell(_fmt(values[k], tz)) for k, _ in COLUMNS]


def _bounded(session: Session, stmt: Select, limit: int | None, cut: list[bool],
             personal_text: bool = False) -> Iterator[list]:
    """At most `limit` rows; `cut` becomes [True] when the query had more (it asks for limit + 1)."""
    for i, row in enumerate(rows(session, stmt, personal_text)):
        if limit is not None and i >= limit:
            cut.append(True)
            return
        yield row


def to_csv(session: Session, stmt: Select, limit: int | None = None,
           personal_text: bool = False) -> tuple[bytes, bool, int]:
    """(the CSV, whether rows were left out by the limit, the rows written)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([title for _, title in COLUMNS])
    cut: list[bool] = []
    count = 0
    for row in _bounded(session, stmt, limit, cut, personal_text):
        writer.writerow(row)
        count += 1
    # The BOM lets Excel open the Chinese text correctly.
    return buf.getvalue().encode("utf-8-sig"), bool(cut), count


def to_xlsx(session: Session, stmt: Select, limit: int | None = None,
            personal_text: bool = False) -> tuple[bytes, bool, int]:
    """(the workbook, whether rows were left out by the limit, the rows written)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单台账")
    ws.append([title for _, title in COLUMNS])
    cut: list[bool] = []
    count = 0
    for row in _bounded(session, stmt, limit, cut, personal_text):
        ws.append(row)
        count += 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), bool(cut), count


def check_request(fmt: str, period: str | None) -> None:
    if fmt not in MEDIA_TYPES:
        raise ApiError(422, "ledger.bad_format", field="format")
    if period:
        check_period(period)


@dataclass(frozen=True)
class Export:
    data: bytes
    media_type: str
    filename: str
    truncated: bool  # rows were left out by the limit: the reader should filter and export in parts
    rows: int  # work orders exported (for the audit trail)


def export(session: Session, fmt: str, *, period: str | None, unit_path: str | tuple[str, ...] | None,
           status: str | None, category: str | None, limit: int, personal_text: bool = False) -> Export:
    # One row more than asked tells whether the export was cut.
    stmt = query(period, unit_path, status, category).limit(limit + 1)
    data, cut, count = (to_csv if fmt == "csv" else to_xlsx)(session, stmt, limit, personal_text)
    return Export(data, MEDIA_TYPES[fmt], f"ledger-{period or 'all'}.{fmt}", cut, count)
