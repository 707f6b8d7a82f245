"""Creating cases and every change a person makes to one; the one module that changes a case.

Each function validates everything first and raises ApiError before writing, and runs inside
the caller's unit of work, so a refused request changes nothing and nothing is half-saved.
"""

import uuid
from contextlib import suppress
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.intake import (
    CaseEvaluated,
    CaseJoined,
    CaseMerged,
    CaseReferred,
    CaseReopened,
    CaseSubmitted,
    CaseSupplemented,
    CaseWithdrawn,
)
from shared.messaging.outbox import Outbox

from . import geo, phones
from .catalogue import Catalogue, Category
from .models import Attachment, Case, CaseCounter, Evaluation, Follower, TimelineEntry
from .policy import policy
from .status import FINISHED, OPEN, rank

CHINA = ZoneInfo("Asia/Shanghai")
URGENCY_ORDER = ("一般", "紧急", "特急")


def next_case_no(session: Session, now: datetime) -> str:
    """2026-11-000123: the month in China time and a running number within it.

    On PostgreSQL the number comes from a sequence per month: a counter row would be locked by
    every submission until its commit, serialising all intake behind one row. A rolled-back
    submission leaves a gap in the numbers, which is harmless. SQLite has one writer at a time
    anyway, so a counter row costs nothing there.
    """
    period = now.astimezone(CHINA).strftime("%Y-%m")
    if session.get_bind().dialect.name == "postgresql":
        sequence = _month_sequence(session.get_bind(), period)
        value = session.execute(text(f"SELECT nextval('{sequence}')")).scalar_one()
    else:
        stmt = sqlite_insert(CaseCounter).values(period=period, value=1)
        stmt = stmt.on_conflict_do_update(index_elements=["period"], set_={"value": CaseCounter.value + 1})
        value = session.execute(stmt.returning(CaseCounter.value)).scalar_one()
    return f"{period}-{value:06d}"


_known_sequences: set[tuple[str, str]] = set()


def _month_sequence(engine, period: str) -> str:
    name = f"case_no_{period.replace('-', '_')}"
    key = (str(engine.url), name)
    if key not in _known_sequences:
        # Outside the request's transaction, so a race between two processes creating it
        # cannot abort a submission.
        # IntegrityError: created by another process at the same moment.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, suppress(IntegrityError):
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name}"))
        _known_sequences.add(key)
    return name


def add_timeline(session: Session, case_id: str, kind: str, text: str, *, public: bool = True,
                 at: datetime | None = None) -> TimelineEntry:
    entry = TimelineEntry(case_id=case_id, at=at or utcnow(), kind=kind, text=text, public=public)
    session.add(entry)
    return entry


def set_status(case: Case, status: str, now: datetime | None = None) -> None:
    case.status, case.status_rank = status, rank(status)
    case.updated_at = now or utcnow()


# ---------------------------------------------------------------- submission


def suggest_urgency(category: Category, description: str) -> str:
    """The category's default, raised by keywords (燃气泄漏 → 特急); never lowered."""
    level = URGENCY_ORDER.index(category.urgency)
    for name, words in policy()["urgency_keywords"].items():
        if any(w in description for w in words):
            level = max(level, URGENCY_ORDER.index(name))
    return URGENCY_ORDER[level]


def decide_urgency(category: Category, description: str, requested: str | None, user: User) -> str:
    suggested = suggest_urgency(category, description)
    if requested is None:
        return suggested
    if user.is_staff:
        return requested  # staff may set any level, lower or higher
    # A reporter may raise it, but only up to reporter_max_urgency (特急 is decided by the system or staff).
    cap = URGENCY_ORDER.index(policy()["reporter_max_urgency"])
    wanted = min(URGENCY_ORDER.index(requested), cap)
    return URGENCY_ORDER[max(wanted, URGENCY_ORDER.index(suggested))]


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


def claim_attachments(session: Session, owner_id: str, ids: list[str], case_id: str) -> list[Attachment]:
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise ApiError(422, "case.attachment_invalid", field="attachment_ids")
    rows = session.scalars(select(Attachment).where(Attachment.id.in_(ids))).all()
    if len(rows) != len(ids) or any(a.owner_id != owner_id for a in rows):
        raise ApiError(422, "case.attachment_invalid", field="attachment_ids")
    if any(a.case_id is not None for a in rows):
        raise ApiError(409, "case.attachment_used", field="attachment_ids")
    already = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id)) or 0
    if already + len(rows) > policy()["attachments"]["max_per_case"]:
        raise ApiError(422, "case.too_many_attachments", field="attachment_ids")
    for a in rows:
        a.case_id = case_id
    return list(rows)


def submit(session: Session, outbox: Outbox, *, user: User, body, catalogue: Catalogue,
           correlation_id: str) -> tuple[Case, TimelineEntry]:
    """Validate and store a new case; emit intake.case.submitted (and .referred for a dispute)."""
    node = catalogue.nodes.get(body.category)
    if node is None:
        raise ApiError(422, "case.unknown_category", field="category")
    if not node.leaf:
        raise ApiError(422, "case.category_not_leaf", field="category")
    if not node.active:
        raise ApiError(422, "case.category_inactive", field="category")
    if body.channel not in policy()["channels_by_role"].get(user.role, []):
        raise ApiError(403, "case.channel_not_allowed", field="channel")
    if (body.lat is None) != (body.lon is None):
        raise ApiError(422, "case.location_pair", field="lon" if body.lon is None else "lat")
    if body.anonymous and not node.anonymous_allowed:
        raise ApiError(422, "case.anonymous_not_allowed", field="anonymous")
    answers = check_answers(node, body.answers)

    # Who reported it: the signed-in resident, or the person an operator files for.
    on_behalf = body.channel in ("hotline", "letter", "walk_in", "mailbox", "gov_api") and user.is_staff
    phone = None
    if body.caller_phone is not None:
        if not on_behalf:
            raise ApiError(422, "validation.extra_field", field="caller_phone")
        try:
            phone = phones.normalise(body.caller_phone)
        except phones.BadPhone:
            raise ApiError(422, "case.bad_phone", field="caller_phone") from None
    if body.channel == "hotline":
        if phone is None:
            raise ApiError(422, "case.phone_required", field="caller_phone")
        if body.consent is None:
            raise ApiError(422, "case.consent_required", field="consent")
    reporter_id = (body.caller_user_id if on_behalf else user.id)
    if body.caller_user_id is not None and not on_behalf:
        raise ApiError(422, "validation.extra_field", field="caller_user_id")

    # Where it goes: mediation for disputes, closed at once for an answered consultation or a
    # grid worker's own handling, otherwise routing dispatches it.
    route, status, closing_text = node.route, "submitted", None
    if body.answer is not None:
        if not user.is_staff:
            raise ApiError(403, "auth.forbidden", field="answer")
        if body.appeal_type != "咨询":
            raise ApiError(422, "case.direct_only_consultation", field="appeal_type")
        route, status, closing_text = "direct", "answered", f"已直接办结：{body.answer}"
    elif body.handling == "self":
        if body.channel != "grid_patrol":
            raise ApiError(422, "validation.not_allowed", field="handling")
        if not body.result:
            raise ApiError(422, "case.result_required", field="result")
        route, status, closing_text = "direct", "self_resolved", f"网格员自办自结：{body.result}"
    elif route == "mediation":
        status = "referred"

    lat = lon = cell = None
    if body.lat is not None:
        lat, lon = geo.to_wgs84(body.lat, body.lon, body.coord_system)
        cell = geo.cell_of(lat, lon, policy()["duplicates"]["cell_degrees"])

    now = utcnow()
    case = Case(
        id=str(uuid.uuid4()), case_no=next_case_no(session, now), reporter_id=reporter_id,
        reporter_phone=phone, created_by_id=user.id, anonymous=body.anonymous, confidential=body.confidential,
        consent=body.consent, appeal_type=body.appeal_type, category=node.code,
        category_version=catalogue.version, matter_class=node.matter_class, clock_profile=node.clock_profile,
        route=route, answers=answers or None, description=body.description, lat=lat, lon=lon,
        coord_system=body.coord_system if body.lat is not None else None,
        orig_lat=body.lat, orig_lon=body.lon, grid_cell=cell, address=body.address, channel=body.channel,
        urgency=decide_urgency(node, body.description, body.urgency, user), status=status,
        status_rank=rank(status), cycle_started_at=now, mediation_seq=0, interest_count=1,
        reopen_count=0, created_at=now, updated_at=now,
    )
    session.add(case)
    session.flush()  # the case row first: attachments and events refer to it
    claim_attachments(session, user.id, body.attachment_ids, case.id)
    entry = add_timeline(session, case.id, "submitted", f"已受理：诉求已登记，编号 {case.case_no}", at=now)
    if body.channel == "hotline":
        add_timeline(session, case.id, "call_recorded",
                     f"热线来电登记：来电人{'同意' if body.consent else '不同意'}登记信息"
                     f"{'，要求保密' if body.confidential else ''}", public=False, at=now)
    if closing_text:
        add_timeline(session, case.id, status, closing_text, at=now)
        if body.knowledge_id:
            add_timeline(session, case.id, "knowledge", f"答复依据知识库条目 {body.knowledge_id}", public=False, at=now)
    if route == "mediation":
        add_timeline(session, case.id, "referred", "纠纷类诉求，已转人民调解组织", at=now)
    outbox.emit(session, CaseSubmitted(
        case_id=case.id, case_no=case.case_no, category=case.category, channel=case.channel,
        urgency=case.urgency, appeal_type=case.appeal_type, matter_class=case.matter_class, lat=lat, lon=lon,
        reporter_id=None if case.anonymous else reporter_id, confidential=case.confidential, route=route,
        clock_profile=case.clock_profile, submitted_at=now), correlation_id=correlation_id)
    if route == "mediation":
        outbox.emit(session, CaseReferred(
            case_id=case.id, case_no=case.case_no, category=case.category, dispute_type=node.dispute_type,
            reporter_id=None if case.anonymous else reporter_id, lat=lat, lon=lon, by_id=None, at=now),
            correlation_id=correlation_id)
    return case, entry


# ---------------------------------------------------------------- the resident's changes


def _is_reporter(case: Case, user: User) -> bool:
    return case.reporter_id is not None and case.reporter_id == user.id


def _actor_id(case: Case, user: User) -> str | None:
    """Who acted, for an event: never the reporter of an anonymous case (events reach handlers)."""
    return None if case.anonymous and _is_reporter(case, user) else user.id


def withdraw(session: Session, outbox: Outbox, case: Case, user: User, reason: str | None, correlation_id: str):
    if not (_is_reporter(case, user) or user.role in ("operator", "admin")):
        raise ApiError(403, "case.not_reporter")
    if case.status not in policy()["withdrawable_statuses"]:
        raise ApiError(409, "case.cannot_withdraw", field="status")
    if case.interest_count > 1:
        # Residents who joined it, or whose cases were merged into it, rely on it being handled:
        # one reporter withdrawing must not end their matter too.
        raise ApiError(409, "case.shared_cannot_withdraw", field="interest_count")
    now = utcnow()
    set_status(case, "withdrawn", now)
    add_timeline(session, case.id, "withdrawn", "反映人已撤回诉求" + (f"：{reason}" if reason else ""), at=now)
    outbox.emit(session, CaseWithdrawn(case_id=case.id, case_no=case.case_no, by_id=_actor_id(case, user), at=now),
                correlation_id=correlation_id)


def supplement(session: Session, outbox: Outbox, case: Case, user: User, body, correlation_id: str):
    if not (_is_reporter(case, user) or user.is_staff):
        raise ApiError(403, "case.not_reporter")
    if case.status in FINISHED:
        raise ApiError(409, "case.closed_for_changes", field="status")
    added = claim_attachments(session, user.id, body.attachment_ids, case.id)
    now = utcnow()
    case.updated_at = now
    who = "反映人" if _is_reporter(case, user) else "工作人员"
    extra = f"（附件 {len(added)} 个）" if added else ""
    add_timeline(session, case.id, "supplemented", f"{who}补充材料：{body.text}{extra}", at=now)
    outbox.emit(session, CaseSupplemented(case_id=case.id, case_no=case.case_no, by_id=_actor_id(case, user),
                                          attachment_count=len(added), at=now), correlation_id=correlation_id)


def reopen(session: Session, outbox: Outbox, case: Case, user: User, body, correlation_id: str):
    if not _is_reporter(case, user):
        raise ApiError(403, "case.not_reporter")
    if case.status not in policy()["reopenable_statuses"] or case.resolved_at is None:
        raise ApiError(409, "case.cannot_reopen", field="status")
    now = utcnow()
    if now > case.resolved_at + timedelta(days=policy()["reopen_window_days"]):
        raise ApiError(409, "case.reopen_window_passed")
    if case.reopen_count >= policy()["max_reopens"]:
        raise ApiError(409, "case.reopen_limit")
    previous_unit = case.unit_id
    # A new cycle: events of the old work order that arrive late cannot move it again.
    case.cycle_started_at, case.work_order_id = now, None
    case.reopen_count += 1
    case.evaluation_due_at = None
    set_status(case, "reopened", now)
    add_timeline(session, case.id, "reopened", "反映人对办理结果不满意，诉求已重启，将再次交由原单位办理"
                 + (f"：{body.reason}" if body.reason else ""), at=now)
    outbox.emit(session, CaseReopened(case_id=case.id, case_no=case.case_no,
                                      reporter_id=None if case.anonymous else case.reporter_id,
                                      previous_unit_id=previous_unit, reason_code=body.reason_code, at=now),
                correlation_id=correlation_id)


def evaluate(session: Session, outbox: Outbox, case: Case, user: User, body, correlation_id: str) -> Evaluation:
    if user.role == "operator":
        via = "operator"  # recorded on the phone with the resident
    elif _is_reporter(case, user):
        via = "resident"
    else:
        raise ApiError(403, "case.not_reporter")
    if case.status not in policy()["evaluable_statuses"]:
        raise ApiError(409, "case.cannot_evaluate", field="status")
    done = session.scalar(select(Evaluation.id).where(Evaluation.case_id == case.id,
                                                      Evaluation.work_order_id == case.work_order_id))
    if done is not None:
        raise ApiError(409, "case.already_evaluated")
    now = utcnow()
    ev = Evaluation(case_id=case.id, work_order_id=case.work_order_id, unit_id=case.unit_id, evaluated=True,
                    contacted=body.contacted, solved=body.solved, satisfaction=body.satisfaction,
                    comment=body.comment, via=via, by_id=user.id, at=now)
    session.add(ev)
    case.evaluation_due_at, case.updated_at = None, now
    by = "话务员回访记录" if via == "operator" else "您的评价"
    add_timeline(session, case.id, "evaluated",
                 f"{by}：{body.satisfaction}，{'已解决' if body.solved else '未解决'}，"
                 f"{'已联系' if body.contacted else '未联系'}", at=now)
    if body.comment:
        add_timeline(session, case.id, "evaluation_comment", f"评价意见：{body.comment}", public=False, at=now)
    outbox.emit(session, CaseEvaluated(case_id=case.id, case_no=case.case_no, work_order_id=case.work_order_id,
                                       unit_id=case.unit_id, evaluated=True, contacted=body.contacted,
                                       solved=body.solved, satisfaction=body.satisfaction, via=via, at=now),
                correlation_id=correlation_id)
    return ev


def expire_evaluations(session: Session, outbox: Outbox, now: datetime, limit: int = 200) -> int:
    """Cases whose evaluation window passed without an answer: recorded as not evaluated.

    The policy's on_timeout is "not_evaluated": the unit is never credited with a silent
    "satisfied". Locked rows are skipped so several workers can share the scan.
    """
    query = (select(Case).where(Case.evaluation_due_at.is_not(None), Case.evaluation_due_at <= now)
             .order_by(Case.evaluation_due_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    cases = session.scalars(query).all()
    for case in cases:
        session.add(Evaluation(case_id=case.id, work_order_id=case.work_order_id, unit_id=case.unit_id,
                               evaluated=False, via="timeout", at=now))
        case.evaluation_due_at, case.updated_at = None, now
        add_timeline(session, case.id, "not_evaluated", "回访期限已过，未收到评价，记为“未评价”", at=now)
        outbox.emit(session, CaseEvaluated(case_id=case.id, case_no=case.case_no, work_order_id=case.work_order_id,
                                           unit_id=case.unit_id, evaluated=False, via="timeout", at=now),
                    correlation_id=f"evaluation-timeout-{case.id}")
    return len(cases)


def join(session: Session, outbox: Outbox, case: Case, user: User, correlation_id: str) -> None:
    """它也影响我: follow an existing case instead of filing a duplicate."""
    if _is_reporter(case, user):
        raise ApiError(409, "case.cannot_join_own")
    if case.status in FINISHED:
        raise ApiError(409, "case.cannot_join", field="status")
    if session.get(Follower, (case.id, user.id)) is not None:
        raise ApiError(409, "case.already_joined")
    now = utcnow()
    session.add(Follower(case_id=case.id, user_id=user.id, at=now))
    # An atomic increment: two residents joining at once both count.
    session.execute(update(Case).where(Case.id == case.id).values(interest_count=Case.interest_count + 1,
                                                                  updated_at=now))
    session.refresh(case)
    add_timeline(session, case.id, "joined", f"又有居民反映受此问题影响（共 {case.interest_count} 人）", at=now)
    outbox.emit(session, CaseJoined(case_id=case.id, user_id=user.id, interest_count=case.interest_count, at=now),
                correlation_id=correlation_id)


def merge(session: Session, outbox: Outbox, child: Case, parent: Case, user: User, correlation_id: str) -> None:
    if user.role not in policy()["merge_roles"]:
        raise ApiError(403, "auth.forbidden")
    if child.id == parent.id:
        raise ApiError(422, "case.merge_self", field="parent_case_id")
    if child.status == "merged":
        raise ApiError(409, "case.already_merged")
    if child.status in FINISHED:
        raise ApiError(409, "case.closed_for_changes", field="status")
    if parent.status not in OPEN or parent.parent_case_id is not None:
        raise ApiError(409, "case.merge_invalid", field="parent_case_id")
    now = utcnow()
    child.parent_case_id = parent.id
    set_status(child, "merged", now)
    child.evaluation_due_at = None
    parent.interest_count += child.interest_count
    parent.updated_at = now
    # Cases merged into the child earlier now point at the parent directly: no chains to follow.
    session.execute(update(Case).where(Case.parent_case_id == child.id).values(parent_case_id=parent.id))
    add_timeline(session, child.id, "merged", f"已与诉求 {parent.case_no} 合并办理，进度和结果以该诉求为准", at=now)
    add_timeline(session, parent.id, "merged_in", f"合并了重复诉求 {child.case_no}", public=False, at=now)
    outbox.emit(session, CaseMerged(child_case_id=child.id, parent_case_id=parent.id, by_id=user.id, at=now),
                correlation_id=correlation_id)


def refer(session: Session, outbox: Outbox, case: Case, user: User, dispute_type: str | None,
          correlation_id: str) -> None:
    """Staff 转调解: a case that turns out to be a dispute goes to people's mediation."""
    if case.status not in OPEN or case.route == "mediation":
        raise ApiError(409, "case.cannot_refer", field="status")
    now = utcnow()
    case.route = "mediation"
    set_status(case, "referred", now)
    add_timeline(session, case.id, "referred", "经工作人员研判，已转人民调解组织调解", at=now)
    outbox.emit(session, CaseReferred(case_id=case.id, case_no=case.case_no, category=case.category,
                                      dispute_type=dispute_type,
                                      reporter_id=None if case.anonymous else case.reporter_id,
                                      lat=case.lat, lon=case.lon, by_id=user.id, at=now),
                correlation_id=correlation_id)


# ---------------------------------------------------------------- reading


def timeline(session: Session, case_id: str, *, include_internal: bool) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.case_id == case_id)
    if not include_internal:
        query = query.where(TimelineEntry.public.is_(True))
    return list(session.scalars(query.order_by(TimelineEntry.at, TimelineEntry.id)))


def page_of_cases(session: Session, *, user_id: str | None, status: str | None, page: int,
                  page_size: int, include_followed: bool = True) -> tuple[list[Case], int]:
    """user_id None: every case (staff); else the user's own and (optionally) the ones they follow."""
    query = select(Case)
    if user_id is not None:
        mine = Case.reporter_id == user_id
        if include_followed:
            followed = select(Follower.case_id).where(Follower.user_id == user_id)
            mine = or_(mine, Case.id.in_(followed))
        query = query.where(mine)
    if status:
        query = query.where(Case.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Case.created_at.desc(), Case.id)
                           .offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def cases_by_phone(session: Session, phone: str, limit: int = 50) -> list[Case]:
    # Anonymous reports are left out: listing one under the caller's number would name its reporter.
    return list(session.scalars(select(Case).where(Case.reporter_phone == phone, Case.anonymous.is_(False))
                                .order_by(Case.created_at.desc()).limit(limit)))
