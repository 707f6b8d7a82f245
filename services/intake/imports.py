"""The 12345 platform's work orders (工单) imported as cases: a batch at a time, each row on its own.

The city's 12345 hotline platform takes the calls (and its website's, WeChat's and app's messages) and
sends its work orders here in batches, with an identity API key holding `hotline:import` (access.py).
Each row becomes a case through intake's own submission (submission.file_case), on the `hotline` channel,
filed as an operator files for a caller: every rule applies unchanged — the catalogue and its questions,
the point's coordinate system and the service area, the caller's phone and her consent (the platform's
flag, required on every row: without consent neither her name nor her phone is kept).

- The platform's category code is looked up in data/hotline_import.json (config.HotlineImport, checked
  against the catalogue at start-up); a code it does not list is that row's error, never a guess. Its
  words for urgency and appeal type likewise.
- One case per (source, order number): a re-sent order, in a re-sent batch or twice in one, answers
  `already` with the case it made and changes nothing; two copies of a batch racing meet on the unique
  index (models.Case `ux_cases_external`), and the loser answers `already` too.
- A refused row is reported (its code, a message, its field as the platform names it) and leaves no trace:
  each row is filed in a SAVEPOINT of its own, so its case, its timeline, its events and their audit
  entries go with it, and the good rows of the batch are committed together.
"""

import re
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from shared import offline
from shared.auth import ApiClient, User
from shared.db import utcnow
from shared.errors import VALIDATION_CODES, ApiError, message
from shared.keys import BlindIndex
from shared.uow import Emit

from . import access, config, submission
from .catalogue import Catalogue, current
from .config import HotlineImport
from .models import Case
from .schemas import ORDER_NO, CaseCreate, HotlineOrder, ImportedRow, ImportResult, RowError
from .status import label

# pydantic's error types → the stable codes every refusal uses: a body's (shared.errors, so a blank text or a
# control character is named as it is there), and a row's malformed number or time a bad type.
_VALIDATION = {**VALIDATION_CODES, "string_pattern_mismatch": "validation.bad_type",
               "timezone_aware": "validation.bad_type"}
# A field of intake's submission as the platform's row calls it, so a refusal names what it sent (the others,
# lat, coord_system, description …, are called alike).
_ROW_FIELDS = {"category": "category_code", "caller_phone": "requester_phone", "answers": "category_code"}


class RowRefused(Exception):
    """A row refused before intake's submission saw it: its code and the row's field."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code, self.field = code, field


def _row_field(field: str | None) -> str | None:
    """The row's field an error of the submission is about (an answer is the category code's, which
    implies it)."""
    if field is None:
        return None
    head = field.split(".", 1)[0]
    return _ROW_FIELDS.get(head, field)


def _validation(exc: ValidationError) -> RowRefused:
    first = exc.errors(include_url=False, include_input=False)[0]
    kind = first.get("type", "")
    code = _VALIDATION.get(kind) or ("validation.bad_type" if kind.endswith("_type") or "parsing" in kind
                                      else "validation.invalid")
    return RowRefused(code, ".".join(str(p) for p in first.get("loc", ())) or None)


def order_no_of(raw) -> str | None:
    """The row's order number, when it is one (before the rest of the row is read): what finds an order
    imported before, and names a refused row."""
    value = raw.get("order_no") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and re.fullmatch(ORDER_NO, value) else None


def imported(session: Session, source: str, order_no: str) -> Case | None:
    return session.scalars(select(Case).where(Case.external_no == order_no, Case.external_source == source)).first()


def as_submission(order: HotlineOrder, rules: HotlineImport) -> tuple[CaseCreate, submission.External]:
    """The platform's order as intake's submission: its words and codes mapped by the configuration."""
    entry = rules.categories.get(order.category_code)
    if entry is None:
        raise RowRefused("hotline.category_unmapped", "category_code")
    appeal = rules.appeal_types.get(order.appeal_type)
    if appeal is None:
        raise RowRefused("hotline.appeal_type_unknown", "appeal_type")
    urgency = None
    if order.urgency is not None:
        urgency = rules.urgency.get(order.urgency)
        if urgency is None:
            raise RowRefused("hotline.urgency_unknown", "urgency")
    data = {"category": entry.category, "appeal_type": appeal, "description": order.description,
            "lat": order.lat, "lon": order.lon, "coord_system": order.coord_system, "address": order.address,
            "channel": "hotline", "urgency": urgency, "confidential": order.confidential,
            "answers": dict(entry.answers), "caller_phone": order.requester_phone, "consent": order.consent}
    try:
        body = CaseCreate.model_validate(data)
    except ValidationError as exc:
        refused = _validation(exc)
        raise RowRefused(refused.code, _row_field(refused.field)) from None
    # The platform received it, so not later than now (its clock a little ahead of ours is not a lie), and its
    # deadline cannot fall before that: either is a typo that would mislead staff about the case's time.
    offline.when(order.received_at, utcnow(), field="received_at", code="hotline.received_in_future")
    if order.deadline is not None and order.deadline < order.received_at:
        raise RowRefused("hotline.deadline_before_received", "deadline")
    external = submission.External(source=rules.source, order_no=order.order_no, received_at=order.received_at,
                                   deadline=order.deadline, channel=order.channel, requester_name=order.requester_name)
    return body, external


def _error(index: int, order_no: str | None, code: str, field: str | None, english: bool) -> ImportedRow:
    return ImportedRow(index=index, order_no=order_no, result="error",
                       error=RowError(code=code, message=message(code, english), field=field))


def _case_row(index: int, order_no: str, result: str, case: Case) -> ImportedRow:
    return ImportedRow(index=index, order_no=order_no, result=result, case_id=case.id, case_no=case.case_no)


def import_row(session: Session, emit: Emit, filer: User, rules: HotlineImport, catalogue: Catalogue,
               index: BlindIndex | None, i: int, raw, english: bool) -> ImportedRow:
    """One row: `already` when its order was imported before (whatever the row says now: the order is the
    platform's, and a re-sent batch must change nothing), else filed, else refused with the reason."""
    order_no = order_no_of(raw)
    if order_no is not None and (case := imported(session, rules.source, order_no)) is not None:
        return _case_row(i, order_no, "already", case)
    if not isinstance(raw, dict):
        return _error(i, None, "hotline.row_not_object", None, english)
    try:
        order = HotlineOrder.model_validate(raw)
        body, external = as_submission(order, rules)
        # The row's own savepoint: a refusal after something was written (a case number drawn, a row
        # flushed) takes all of it back, and the batch's other rows stand.
        with session.begin_nested():
            case, _ = submission.file_case(session, emit, filer, body, catalogue, index,
                                           channels=access.IMPORT_CHANNELS, external=external)
    except ValidationError as exc:
        refused = _validation(exc)
        return _error(i, order_no, refused.code, refused.field, english)
    except RowRefused as exc:
        return _error(i, order_no, exc.code, exc.field, english)
    except ApiError as exc:
        return _error(i, order_no, exc.code, _row_field(exc.field), english)
    except DataError:
        # Input the database cannot store that the schema let through: this row's bad input, never a 500.
        return _error(i, order_no, "validation.bad_type", None, english)
    except IntegrityError:
        # Another copy of the batch filed this order meanwhile (the unique index): its case is the answer.
        if (case := imported(session, rules.source, order.order_no)) is None:
            raise
        return _case_row(i, order.order_no, "already", case)
    return _case_row(i, order.order_no, "created", case)


def import_batch(session: Session, emit: Emit, client: ApiClient, rows: Sequence, index: BlindIndex | None,
                 english: bool = False) -> ImportResult:
    """Every row of the batch in order; 422 for the whole batch only when it is larger than configured."""
    rules = config.get().hotline_import
    if len(rows) > rules.max_rows:
        raise ApiError(422, "hotline.batch_too_large", field="orders", detail=str(rules.max_rows))
    filer = access.importer(client)
    catalogue = current(session)
    results = [import_row(session, emit, filer, rules, catalogue, index, i, raw, english) for i, raw in enumerate(rows)]
    count = {kind: sum(1 for r in results if r.result == kind) for kind in ("created", "already", "error")}
    return ImportResult(source=rules.source, total=len(results), created=count["created"], already=count["already"],
                        errors=count["error"], rows=results)


def imported_order(session: Session, client: ApiClient, order_no: str) -> Case:
    """The case an order this key imported became; 404 when the key imported no such order."""
    source = config.get().hotline_import.source
    case = session.scalars(select(Case).where(access.imported_by(client, source), Case.external_no == order_no)).first()
    if case is None:
        raise ApiError(404, "case.not_found", field="order_no")
    return case


def order_view(case: Case, english: bool = False) -> dict:
    return {"source": case.external_source, "order_no": case.external_no, "case_id": case.id,
            "case_no": case.case_no, "status": case.status, "status_label": label(case.status, english),
            "unit_name": case.unit_name, "outcome": case.outcome, "created_at": case.created_at,
            "updated_at": case.updated_at}
