"""Service requests over Open311: filing one as an ordinary case, finding those a key reads, and their
public progress as mySociety's request updates.

Filing goes through intake's own submission (submission.submit), so every rule of a case filed for someone
applies unchanged: the catalogue and its questions, the point's coordinate system and the service area, the
consent for a phone, the Idempotency-Key. The case is filed on the `gov_api` channel and flows through
routing and notify like any other. What GeoReport v2 carries that intake does not keep is dropped, never
stored: first_name, last_name, email, device_id, account_id (a case filed for someone keeps no name; the
caller's phone is kept only with consent), and media_url (never fetched: a server that fetches the URLs it is
given can be pointed at the city's own network, and the files of a case are uploads intake checked itself).
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import ApiClient
from shared.db import utcnow
from shared.errors import ApiError
from shared.keys import BlindIndex
from shared.uow import Emit

from .. import catalogue as cat
from .. import submission
from ..models import Case, IdempotencyKey, TimelineEntry
from ..schemas import CaseCreate
from . import access, config, statuses, views

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class Form:
    """A form-encoded body: every name with its values, in the order sent."""

    fields: dict[str, list[str]]

    @classmethod
    def of(cls, pairs: list[tuple[str, str]]) -> "Form":
        fields: dict[str, list[str]] = {}
        for name, value in pairs:
            fields.setdefault(name, []).append(value)
        return cls(fields)

    def one(self, name: str) -> str | None:
        """The field's value; None when absent or empty; 400 when given twice."""
        values = self.fields.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise ApiError(400, "open311.repeated_field", field=name)
        return values[0] if values[0].strip() else None


def number(text: str | None, field: str) -> float | int | None:
    if text is None:
        return None
    try:
        value = int(text) if re.fullmatch(r"[+-]?\d{1,15}", text.strip()) else float(text)
    except ValueError:
        raise ApiError(400, "open311.bad_number", field=field) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(400, "open311.bad_number", field=field)
    return value


def boolean(text: str | None, field: str) -> bool | None:
    if text is None:
        return None
    if text.strip().lower() in TRUE:
        return True
    if text.strip().lower() in FALSE:
        return False
    raise ApiError(400, "open311.bad_boolean", field=field)


def answers(form: Form, node: cat.Category | None) -> dict:
    """`attribute[code]=value` as the category's answers, typed by its questions. A code the category does
    not ask is passed on as it came, and intake refuses it (case.answer_unknown), as it would anyone's."""
    questions = {q.key: q for q in node.questions} if node is not None else {}
    found: dict = {}
    for name, values in form.fields.items():
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code = match.group(1)
        field = f"answers.{code}"
        if code in found or len(values) > 1:  # every question takes one value: no multivaluelist here
            raise ApiError(400, "open311.repeated_field", field=field)
        value = values[0]
        if not value.strip():
            continue
        q = questions.get(code)
        if q is not None and q.type == "number":
            found[code] = number(value, field)
        elif q is not None and q.type == "bool":
            found[code] = boolean(value, field)
        else:
            found[code] = value
    return found


def case_body(form: Form, catalogue: cat.Catalogue) -> CaseCreate:
    """The form as intake's submission, checked by intake's own schema (a refusal names the field as
    GeoReport v2 calls it: service_code, long, address_string, attribute[code], phone)."""
    code = form.one("service_code")
    if code is None:
        raise ApiError(400, "open311.service_code_required", field="service_code")
    lat, lon = number(form.one("lat"), "lat"), number(form.one("long"), "lon")
    address = form.one("address_string")
    if lat is None and lon is None and address is None:
        raise ApiError(400, "open311.address_id_unsupported" if form.one("address_id") else
                       "open311.location_required", field="lat")
    data: dict = {"category": code, "description": form.one("description") or "", "channel": "gov_api",
                  "answers": answers(form, catalogue.nodes.get(code)), "address": address, "lat": lat, "lon": lon}
    if lat is not None or lon is not None:
        # GeoReport v2's lat/long are WGS-84; a system holding GCJ-02 or BD-09 says so (an extension).
        data["coord_system"] = form.one("coord_system") or "wgs84"
    phone = form.one("phone")
    if phone is not None:
        data["caller_phone"], data["consent"] = phone, boolean(form.one("consent"), "consent")
    for name in ("confidential", "anonymous"):
        if (flag := boolean(form.one(name), name)) is not None:
            data[name] = flag
    if (appeal := form.one("appeal_type")) is not None:
        data["appeal_type"] = appeal
    try:
        return CaseCreate.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None


def file(session: Session, emit: Emit, client: ApiClient, form: Form, idempotency_key: str | None,
         index: BlindIndex) -> submission.Submission:
    """POST requests: a case filed by the key, through intake's submission."""
    access.require(client, access.CREATE)
    body = case_body(form, cat.current(session))
    return submission.submit(session, emit, access.filer(client), body, idempotency_key, index, access.CHANNELS)


# --------------------------------------------------------------------------- reading


def when(text: str | None, field: str) -> datetime | None:
    """A W3C date-time with its offset (`Z` or ±hh:mm); 400 for anything else, a naive one included."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ApiError(400, "open311.bad_datetime", field=field) from None
    if value.tzinfo is None or not 2000 <= value.year <= 2200:
        raise ApiError(400, "open311.bad_datetime", field=field)
    return value


def window(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    """The range asked, within the configured span (window_days): neither given, the last `default`; one
    given, the span from it (forward from start_date, back from end_date)."""
    span = timedelta(days=config.get().window_days)
    if start is None and end is None:
        end = utcnow()
        start = end - default
    elif start is None:
        start = end - span
    elif end is None:
        end = start + span
    if start > end or end - start > span:
        raise ApiError(400, "open311.date_range", field="start_date", detail=f"≤ {span.days} days")
    return start, end


def ids_of(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if len(ids) > config.get().max_ids:
        raise ApiError(400, "open311.too_many_ids", field="service_request_id", detail=f"≤ {config.get().max_ids}")
    return [i for i in ids if len(i) <= 36]  # a longer one names no case


def wanted_statuses(text: str | None) -> set[str]:
    if text is None:
        return set(statuses.BASIC)
    wanted = {s.strip().lower() for s in text.split(",") if s.strip()}
    if not wanted or not wanted <= set(statuses.BASIC):
        raise ApiError(400, "open311.bad_status", field="status")
    return wanted


@dataclass(frozen=True)
class Query:
    ids: list[str] | None
    codes: list[str] | None
    start: datetime
    end: datetime
    wanted: set[str]
    page: int
    page_size: int


def listed(session: Session, client: ApiClient, q: Query) -> list[Case]:
    """GET requests: the cases the key reads, newest first, a page at a time. With service_request_id the
    other filters are ignored, as the specification says."""
    query = select(Case).where(access.readable(client))
    if q.ids is not None:
        query = query.where(Case.id.in_(q.ids))
    else:
        query = query.where(Case.created_at >= q.start, Case.created_at <= q.end)
        if q.codes:
            query = query.where(Case.category.in_(q.codes))
        if q.wanted != set(statuses.BASIC):
            closed = statuses.statuses_in("closed")
            query = query.where(Case.status.in_(closed) if q.wanted == {"closed"} else Case.status.not_in(closed))
    return list(session.scalars(query.order_by(Case.created_at.desc(), Case.id)
                                .offset((q.page - 1) * q.page_size).limit(q.page_size)))


def one(session: Session, client: ApiClient, case_id: str) -> Case:
    """GET requests/{id}: out of the key's reach is the same 404 as no such case."""
    case = session.scalar(select(Case).where(Case.id == case_id, access.readable(client)))
    if case is None:
        raise ApiError(404, "open311.request_not_found", field="service_request_id")
    return case


def by_token(session: Session, client: ApiClient, token: str) -> Case:
    """GET tokens/{token}: requests are filed at once, so no POST answers with a token; a key may still ask
    with the Idempotency-Key it sent, to learn the id of what it filed when the answer was lost."""
    access.require(client, access.CREATE, access.READ_OWN)
    row = session.get(IdempotencyKey, (access.filer(client).id, token))
    case = session.get(Case, row.case_id) if row is not None else None
    if case is None:
        raise ApiError(404, "open311.token_not_found", field="token")
    return case


def updates(session: Session, client: ApiClient, start: datetime, end: datetime, page: int,
            page_size: int) -> list[tuple[TimelineEntry, Case, str]]:
    """GET servicerequestupdates: the public timeline entries of the cases the key reads, in the range,
    oldest first (a client resumes from the last updated_datetime it saw), each with the case's status just
    after it."""
    rows = session.execute(
        select(TimelineEntry, Case).join(Case, Case.id == TimelineEntry.case_id)
        .where(TimelineEntry.public.is_(True), TimelineEntry.at >= start, TimelineEntry.at <= end,
               access.readable(client))
        .order_by(TimelineEntry.at, TimelineEntry.id).offset((page - 1) * page_size).limit(page_size)).all()
    cases = {c.id: c for _, c in rows}
    history: dict[str, list[TimelineEntry]] = {}
    if cases:
        for entry in session.scalars(select(TimelineEntry).where(TimelineEntry.case_id.in_(list(cases)),
                                                                 TimelineEntry.public.is_(True))
                                     .order_by(TimelineEntry.at, TimelineEntry.id)):
            history.setdefault(entry.case_id, []).append(entry)
    status_after: dict[int, str] = {}
    for case_id, entries in history.items():
        status_after |= views.statuses_of(entries, cases[case_id].status)
    return [(entry, case, status_after.get(entry.id, case.status)) for entry, case in rows]

