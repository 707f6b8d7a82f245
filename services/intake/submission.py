"""Filing a case: its number, its urgency, the category's questions, where it goes, and the
Idempotency-Key that makes a retried submission return the same case.

Everything is validated before anything is written, and it all runs in the caller's unit of work,
so a refused submission changes nothing.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from shared import phones
from shared.auth import User
from shared.config import local_zone
from shared.db import upsert_insert, utcnow
from shared.errors import ApiError
from shared.events.intake import CaseReferred, CaseSubmitted, caller_phone_seal_context
from shared.keys import BlindIndex
from shared.numbering import next_number, number_in_insert
from shared.sealed import data_keys_in_use
from shared.uow import Emit

from . import attachments, config, duplicates, geo, knowledge, timeline
from .catalogue import Catalogue, Category, current
from .models import Case, CaseCounter, IdempotencyKey, TimelineEntry
from .privacy import PHONE
from .schemas import CaseCreate
from .status import FINISHED, rank

URGENCY_ORDER = ("一般", "紧急", "特急")
# Channels on which staff file for someone else: the person reporting is the caller, not the user.
ON_BEHALF_CHANNELS = ("hotline", "letter", "walk_in", "mailbox", "gov_api")


def next_case_no(session: Session, now: datetime) -> str:
    """2026-11-000123: the month in local time and a running number within it (shared.numbering:
    a sequence per month on PostgreSQL, the `case_counters` row on SQLite)."""
    period = now.astimezone(local_zone()).strftime("%Y-%m")
    return f"{period}-{next_number(session, 'case_no', period, CaseCounter.__table__):06d}"


def _insert_case(session: Session, case: Case) -> None:
    """The case's row in one INSERT that also draws its number (RETURNING case_no): on PostgreSQL the
    number comes from the month's sequence inside the statement, one round trip instead of two. The
    object then joins the session as the stored row it is."""
    period = case.created_at.astimezone(local_zone()).strftime("%Y-%m")
    number = number_in_insert(session, "case_no", period, CaseCounter.__table__, f"{period}-")
    table = Case.__table__
    state = inspect(case)
    values = {attr.columns[0].name: state.dict[attr.key] for attr in state.mapper.column_attrs
              if attr.key in state.dict}
    # The row's values go as parameters, not .values(): a statement of fifty bound values was built and
    # keyed for the cache anew on every submission; this one is compiled once.
    row = session.execute(insert(table).values(case_no=number).returning(*(table.c[name] for name in _GENERATED)),
                          values).one()
    for name in _GENERATED:
        setattr(case, name, row._mapping[name])
    for attr in state.mapper.column_attrs:  # what nobody gave is NULL in the row: known, not to be loaded
        if attr.key not in state.dict:
            setattr(case, attr.key, None)
    make_transient_to_detached(case)
    session.add(case)


# Columns the INSERT fills that the object has not: its number, and what the table's defaults give.
_GENERATED = tuple(["case_no"] + [c.name for c in Case.__table__.columns
                                  if c.default is not None or c.server_default is not None])


def suggest_urgency(category: Category, description: str) -> str:
    """The category's default, raised by keywords (燃气泄漏 → 特急); never lowered."""
    level = URGENCY_ORDER.index(category.urgency)
    for name, words in config.get().urgency_keywords.items():
        if any(w in description for w in words):
            level = max(level, URGENCY_ORDER.index(name))
    return URGENCY_ORDER[level]


def decide_urgency(category: Category, description: str, requested: str | None, user: User) -> tuple[str, str | None]:
    """(the case's urgency, a higher one its requester asked for). Staff decide: what they file
    with is the urgency, lower or higher. A requester only asks: her case keeps the category's
    level raised by keywords, and a higher wish is recorded for staff to decide on
    (POST /cases/{id}/urgency), because the urgency sets the clocks every unit is ranked by, and a
    garbage complaint must not put a unit on 30-minute clocks by the reporter's say."""
    suggested = suggest_urgency(category, description)
    if requested is None:
        return suggested, None
    if user.is_staff:
        return requested, None
    if URGENCY_ORDER.index(requested) > URGENCY_ORDER.index(suggested):
        return suggested, requested
    return suggested, None


def check_answers(category: Category, answers: dict) -> dict:
    questions = {q.key: q for q in category.questions}
    for key in answers:
        if key not in questions:
            raise ApiError(422, "case.answer_unknown", field=f"answers.{key}")
    clean = {}
    for q in category.questions:
        value = answers.get(q.key)
        if value is None or value == "":
            if q.required:
                raise ApiError(422, "case.answer_missing", field=f"answers.{q.key}")
            continue
        ok = {
            "text": isinstance(value, str) and len(value) <= 500,
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "choice": isinstance(value, str) and value in (q.choices or []),
        }[q.type]
        if not ok:
            raise ApiError(422, "case.answer_invalid", field=f"answers.{q.key}")
        clean[q.key] = value
    return clean


def check_praised_unit(body: CaseCreate) -> str | None:
    """The unit a praise names, by its code: only on a praise (表扬; 422 otherwise, it would mean nothing),
    and in the organisation's code form (policy.json `unit_code_pattern`, 15 digits by default). Whether
    the unit exists is routing's to know: a code it does not know sends the praise where its list sends
    the place and category, as a praise naming nobody."""
    code = body.praised_unit_code
    if code is None:
        return None
    if body.appeal_type != "表扬":
        raise ApiError(422, "case.praised_unit_not_praise", field="praised_unit_code")
    if not re.fullmatch(config.get().unit_code_pattern, code):
        raise ApiError(422, "case.praised_unit_invalid", field="praised_unit_code")
    return code


# The appeals a 小事 category sends to the residents' consultation (居民议事); praise and questions go to
# the unit as in any other category.
CONSULTED_APPEALS = frozenset({"投诉", "求助", "建议"})


def guidance_for(matter_class: str | None) -> bool | None:
    """三事分流: a private matter (私事: the category's class in the catalogue) is left to the resident or the
    market, with guidance; routing ends its order with that guidance instead of handling it as work. None
    when the class is unknown: routing then decides by the class itself."""
    return None if matter_class is None else matter_class == "私事"


@dataclass(frozen=True)
class External:
    """A case another platform sent: the city's 12345 hotline platform's work order (imports.py)."""

    source: str  # "12345"
    order_no: str  # the platform's order number: one case per (source, number)
    received_at: datetime | None = None  # when the platform received it
    deadline: datetime | None = None  # the platform's deadline (routing's own clocks decide ours)
    channel: str | None = None  # the platform's channel (电话, 网站 …), for staff
    requester_name: str | None = None  # kept only with the requester's consent, sealed at rest


def _stamp(at: datetime | None) -> str:
    return at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M") if at is not None else "未提供"


def caller_phone_for_notify(case_id: str, phone: str | None, consent: bool | None, anonymous: bool,
                            reporter_id: str | None) -> str | None:
    """The caller's phone sealed for notify (shared.keys data keys, the context opening it for this case
    only: `caller_phone_seal_context`), so she hears of her case by SMS: only for someone staff filed for who
    consented, is not anonymous and has no account as the reporter. A resident with an account is told in
    the app; an anonymous caller or one who refused left no number to tell; the phone itself never travels
    in an event readable by every consumer."""
    if phone is None or consent is not True or anonymous or reporter_id is not None:
        return None
    return data_keys_in_use().seal(phone, caller_phone_seal_context(case_id))


def file_case(session: Session, emit: Emit, user: User, body: CaseCreate, catalogue: Catalogue,
              index: BlindIndex | None = None, channels: Collection[str] | None = None,
              external: External | None = None, case_id: str | None = None) -> tuple[Case, TimelineEntry]:
    """Validate and store a new case; emit intake.case.submitted (and .referred for a dispute).
    `index`: the keyed hash a caller's phone is found by (privacy.phone_index). `channels`: the channels
    this filer may use when they are not her role's (policy.json channels_by_role): a government system's
    API key files on `gov_api` alone (open311/access.py), the 12345 platform's import on `hotline`.
    `external`: the other platform's order this case is (its number, deadline, the requester's name).
    `case_id`: the id the case takes (an Idempotency-Key claimed for it first), a new one otherwise."""
    node = catalogue.nodes.get(body.category)
    if node is None:
        raise ApiError(422, "case.unknown_category", field="category")
    if not node.leaf:
        raise ApiError(422, "case.category_not_leaf", field="category")
    if not node.active:
        raise ApiError(422, "case.category_inactive", field="category")
    if body.channel not in (config.get().channels_by_role.get(user.role, ()) if channels is None else channels):
        raise ApiError(403, "case.channel_not_allowed", field="channel")
    wgs = geo.point(body.lat, body.lon, body.coord_system)
    if body.anonymous and not node.anonymous_allowed:
        raise ApiError(422, "case.anonymous_not_allowed", field="anonymous")
    answers = check_answers(node, body.answers)
    praised = check_praised_unit(body)

    # Who reported it: the signed-in resident, or the caller whose phone an operator files it under.
    # A case filed for someone is theirs by that phone (the resident whose verified phone it is sees
    # it), never by an account named in the request.
    on_behalf = body.channel in ON_BEHALF_CHANNELS and user.is_staff
    phone = None
    if body.caller_phone is not None:
        if not on_behalf:
            raise ApiError(422, "case.caller_phone_not_allowed", field="caller_phone")
        try:
            phone = phones.normalise(body.caller_phone)
        except phones.BadPhone:
            raise ApiError(422, "case.bad_phone", field="caller_phone") from None
    if body.channel == "hotline" and phone is None:
        raise ApiError(422, "case.phone_required", field="caller_phone")
    # Whoever staff file for — caller, writer, visitor — said whether their number may be kept: it
    # finds the case for the hotline and shows it to the resident whose verified phone it is.
    if phone is not None and body.consent is None:
        raise ApiError(422, "case.consent_required", field="consent")
    if body.consent is False:
        phone = None  # they refused: the number is not kept, nor can it find the case
    reporter_id = None if on_behalf else user.id
    phone_key = index(phone, PHONE) if phone is not None and index is not None and not body.anonymous else None
    # A name, like the number, is kept only when its owner said it may be (and never on an anonymous report).
    name = external.requester_name if external is not None and body.consent is True and not body.anonymous \
        else None

    # Where it goes: mediation for disputes, closed at once for an answered consultation or a
    # grid worker's own handling, otherwise routing dispatches it.
    route, status, closing_text, cited = node.route, "submitted", None, None
    if body.knowledge_id is not None and body.answer is None:
        raise ApiError(422, "case.knowledge_without_answer", field="knowledge_id")
    if body.answer is not None:
        if not user.is_staff:
            raise ApiError(403, "auth.forbidden", field="answer")
        if body.appeal_type != "咨询":
            raise ApiError(422, "case.direct_only_consultation", field="appeal_type")
        if body.knowledge_id is not None:
            cited = knowledge.cited(session, body.knowledge_id)
        route, status, closing_text = "direct", "answered", f"已直接办结：{body.answer}"
    elif body.handling == "self":
        if body.channel != "grid_patrol":
            raise ApiError(422, "validation.not_allowed", field="handling")
        if not body.result:
            raise ApiError(422, "case.result_required", field="result")
        route, status, closing_text = "direct", "self_resolved", f"网格员自办自结：{body.result}"
    elif route == "mediation":
        status = "referred"
    elif route == "consultation" and body.appeal_type in CONSULTED_APPEALS and wgs is not None:
        status = "consulting"
    elif route == "consultation":
        # Praise or a question about a 小事 category is answered by the unit, not put to a vote; and a
        # matter with no point cannot be placed in the community whose residents would decide it.
        route = "dispatch"

    lat = lon = cell = None
    if wgs is not None:
        lat, lon = wgs
        cell = geo.cell_of(lat, lon, config.get().duplicates.cell_degrees)
    urgency, requested_urgency = decide_urgency(node, body.description, body.urgency, user)

    now = utcnow()
    case = Case(
        id=case_id or str(uuid.uuid4()), reporter_id=reporter_id,
        reporter_phone=phone, reporter_phone_index=phone_key, created_by_id=user.id, anonymous=body.anonymous,
        confidential=body.confidential, consent=body.consent, appeal_type=body.appeal_type, category=node.code,
        category_version=catalogue.version, matter_class=node.matter_class, clock_profile=node.clock_profile,
        route=route, answers=answers or None, description=body.description, lat=lat, lon=lon,
        coord_system=body.coord_system if wgs is not None else None,
        orig_lat=body.lat, orig_lon=body.lon, grid_cell=cell, address=body.address, channel=body.channel,
        urgency=urgency, requested_urgency=requested_urgency, praised_unit_code=praised, requester_name=name,
        external_source=external.source if external else None, external_no=external.order_no if external else None,
        external_received_at=external.received_at if external else None,
        external_deadline=external.deadline if external else None, status=status,
        status_rank=rank(status), cycle_started_at=now, mediation_seq=0, interest_count=1,
        reopen_count=0, finished_at=now if status in FINISHED else None, created_at=now, updated_at=now,
    )
    _insert_case(session, case)  # the case row first: attachments and events refer to it
    attachments.claim(session, user.id, body.attachment_ids, case.id)
    # Its timeline is written at COMMIT with its events: nothing reads it back before.
    entry = timeline.add(session, case.id, "submitted", f"已受理：诉求已登记，编号 {case.case_no}", at=now,
                         deferred=True)
    if body.channel == "hotline":
        timeline.add(session, case.id, "call_recorded",
                     f"热线来电登记：来电人{'同意' if body.consent else '不同意'}登记信息"
                     f"{'，要求保密' if body.confidential else ''}", public=False, at=now, deferred=True)
    if external is not None:
        timeline.add(session, case.id, "imported",
                     f"{external.source} 平台工单导入：工单号 {external.order_no}；"
                     f"平台受理渠道 {external.channel or '未提供'}；平台受理时间 {_stamp(external.received_at)}；"
                     f"平台办理时限 {_stamp(external.deadline)}（本平台办理时限以派单时限为准）", public=False, at=now,
                     deferred=True)
    if requested_urgency is not None:
        # Public: the requester sees her wish was recorded; staff see it and decide.
        timeline.add(session, case.id, "urgency_requested",
                     f"反映人希望紧急程度为“{requested_urgency}”（当前“{urgency}”），已记录，由工作人员研判", at=now,
                     deferred=True)
    if closing_text:
        timeline.add(session, case.id, status, closing_text, at=now, deferred=True)
        if cited is not None:
            timeline.add(session, case.id, "knowledge", f"答复依据知识库条目 {cited.id}（第 {cited.version} 版）",
                         public=False, at=now, deferred=True)
    if route == "mediation":
        timeline.add(session, case.id, "referred", "纠纷类诉求，已转人民调解组织", at=now, deferred=True)
    if route == "consultation":
        timeline.add(session, case.id, "consulting", "属于社区“小事”，已转居民议事：经居民代表或住户联名提议后"
                     "列入议程，由居民协商决定", at=now, deferred=True)
    emit(CaseSubmitted(
        case_id=case.id, case_no=case.case_no, category=case.category, channel=case.channel,
        urgency=case.urgency, appeal_type=case.appeal_type, matter_class=case.matter_class, lat=lat, lon=lon,
        reporter_id=None if case.anonymous else reporter_id, confidential=case.confidential, route=route,
        closed_as=status if route == "direct" else None,
        clock_profile=case.clock_profile, submitted_at=now, guidance=guidance_for(case.matter_class),
        praised_unit_code=praised, external_source=case.external_source, external_no=case.external_no,
        external_deadline=case.external_deadline,
        caller_phone_sealed=caller_phone_for_notify(case.id, phone, body.consent, case.anonymous, reporter_id)))
    if route == "mediation":
        emit(CaseReferred(
            case_id=case.id, case_no=case.case_no, category=case.category, dispute_type=node.dispute_type,
            reporter_id=None if case.anonymous else reporter_id, lat=lat, lon=lon, by_id=None, at=now))
    return case, entry


# ---------------------------------------------------------------- a submission, once per Idempotency-Key


@dataclass(frozen=True)
class Submission:
    case: Case
    # The "submitted" entry just written; None when an earlier submission with the key is replayed.
    first_entry: TimelineEntry | None
    # Open cases nearby that may be the same problem, offered to join instead.
    possible_duplicates: list[duplicates.Candidate] = field(default_factory=list)

    @property
    def replayed(self) -> bool:
        return self.first_entry is None


def _request_hash(body: CaseCreate) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def _claim(session: Session, user: User, key: str, digest: str, case_id: str) -> bool:
    """Claim the Idempotency-Key for the case about to be filed, in the submission's own transaction:
    True when it is this request's, False when an earlier one holds it. A copy of the same request
    racing this one waits on the key's row until the other commits (then finds it) or rolls back (then
    claims it), so two copies never file two cases and the loser never has to undo anything."""
    table = IdempotencyKey.__table__
    stmt = upsert_insert(session)(table).values(user_id=user.id, key=key, request_hash=digest, case_id=case_id,
                                                created_at=utcnow())
    return session.execute(stmt.on_conflict_do_nothing(index_elements=["user_id", "key"])
                           .returning(table.c.case_id)).first() is not None


def _earlier(session: Session, user: User, key: str, digest: str) -> Case:
    row = session.get(IdempotencyKey, (user.id, key))
    if row.request_hash != digest:
        raise ApiError(409, "idempotency.key_reused", field="Idempotency-Key")
    return session.get(Case, row.case_id)


def _offers(session: Session, catalogue: Catalogue, body: CaseCreate, user: User) -> list[duplicates.Candidate]:
    """Open cases nearby that may be the same problem, looked up before anything is written, so the
    search holds no lock of the submission's. A body filing would refuse is offered nothing here:
    file_case says what is wrong with it, in its own order."""
    node = catalogue.nodes.get(body.category)
    if node is None or not node.leaf or body.answer is not None or body.handling == "self":
        return []  # unknown, refused, or closed at once (nobody joins an answered consultation)
    try:
        wgs = geo.point(body.lat, body.lon, body.coord_system)
    except ApiError:
        return []
    if wgs is None:
        return []
    return duplicates.find(session, node, body.description, *wgs, now=utcnow(), user=user)


def submit(session: Session, emit: Emit, user: User, body: CaseCreate,
           idempotency_key: str | None = None, index: BlindIndex | None = None,
           channels: Collection[str] | None = None, before_filing: Callable[[], None] | None = None) -> Submission:
    """File a case in the current catalogue, or return the one an earlier try with the same
    Idempotency-Key filed. One transaction: the duplicate offers are read first, then the key is
    claimed and the case written. `before_filing`: called once it is known a new case is to be filed (a
    quota's check: a retry of a case filed already is answered with it even when her hour is used up)."""
    digest = None
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 100:
            raise ApiError(400, "idempotency.key_invalid", field="Idempotency-Key")
        digest = _request_hash(body)
    catalogue = current(session)
    found = _offers(session, catalogue, body, user)
    case_id = str(uuid.uuid4())
    if digest is not None and not _claim(session, user, idempotency_key, digest, case_id):
        return Submission(_earlier(session, user, idempotency_key, digest), None)
    if before_filing is not None:
        before_filing()
    case, first = file_case(session, emit, user, body, catalogue, index, channels, case_id=case_id)
    return Submission(case, first, found)
