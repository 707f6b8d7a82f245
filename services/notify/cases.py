"""What notify remembers about a case, for the rules (data/rules.json, config.CASE_FACTS).

Routing's events name neither the case's urgency nor the residents who follow it, and intake's
evaluation names no requester; notify learns them from the events it sees and offers them to the
rules beside the payload's own fields:

- `urgency`: from intake.case.submitted, then intake.case.urgency_changed (the newest wins) — which
  work orders may not wait (rules.json `urgent_orders`);
- `requester_id`: the reporter, or the requester routing names;
- `follower_ids`: residents who joined the case (它也影响我), and the requester and followers of a case
  merged into it: told of its progress, never of the reporter;
- `lead_order`: whether the event is about the case's current lead work order (an assisting unit's
  result is not the case's);
- `dissatisfied`, `reopenable`, `reopen_deadline`: the latest result was rated 不满意; whether she
  may still reopen it (intake: within `reopen.window_days` of the result, at most `reopen.max_reopens`
  times) and until when;
- `caller`: the recipient "caller:<case id>" while notify holds the phone of a hotline caller without an
  account who consented to be told (intake's `caller_phone_sealed`): she is sent SMS only (callers.py).

Kept besides, not offered to the rules: the case's category and area (webhook filters, webhooks.py) and
the platform and order number it came from (the 12345 write-back, platform.py).

A case notify never saw submitted has no urgency and no followers: its messages are as the templates say.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import upsert_insert
from shared.events import Envelope, Payload
from shared.events.intake import caller_phone_seal_context
from shared.keys import BlindIndex, DataKeys
from shared.messaging import preload
from shared.phones import BadPhone, normalise

from .codes import sms_address
from .config import Config
from .models import CaseFacts, CaseFollower, Recipient

log = logging.getLogger(__name__)
CALLER = "caller:"  # the recipient id of a case's hotline caller: CALLER + case id
EXTERNAL_NO_MAX = 100  # CaseFacts.external_no


@dataclass(frozen=True)
class Secrets:
    """What opens a caller's sealed phone (the deployment's data keys) and indexes it (CG_INDEX_KEY)."""

    keys: DataKeys
    index: BlindIndex


def caller_of(case_id: str) -> str:
    return CALLER + case_id


def _learn_caller(row: CaseFacts, secrets: Secrets | None, case_id: str, sealed: str) -> None:
    """Keep the caller's phone, sealed at rest, as the SMS provider takes it, with its blind index."""
    if secrets is None:
        return
    try:
        phone = secrets.keys.open(sealed, caller_phone_seal_context(case_id))
    except (InvalidTag, KeyError, ValueError):
        # Another key, another case's value: she cannot be told by SMS; the case and its other messages go on
        # (a retry would fail the same way). The text names the event, never a value.
        log.warning("notify: the caller's phone of intake.case.submitted does not open; no SMS to her")
        return
    try:
        e164 = normalise(phone, mobile=True)
    except BadPhone:
        return  # a landline takes no SMS: nothing is kept
    row.caller_phone, row.caller_phone_index = sms_address(e164), secrets.index(e164, "phone")


def _row(session: Session, case_id: str) -> CaseFacts:
    """The case's row, made if missing (once, whoever else makes it at the same time: in a preloaded batch
    two processes making it at once make one of the batches fail, and be handled again one by one)."""
    if preload.known(session, CaseFacts, case_id):
        row = preload.get(session, CaseFacts, case_id)
        if row is None:
            row = CaseFacts(case_id=case_id, reopens=0, dissatisfied=False)
            session.add(row)
            preload.put(session, CaseFacts, case_id, row)
        return row
    insert = upsert_insert(session)
    session.execute(insert(CaseFacts).values(case_id=case_id, reopens=0, dissatisfied=False)
                    .on_conflict_do_nothing())
    return session.get(CaseFacts, case_id, with_for_update=True)


def _follow(session: Session, case_id: str, user_ids: list[str]) -> None:
    session.info.get(FOLLOWERS, {}).pop(case_id, None)  # read again from the table from now on
    insert = upsert_insert(session)
    for user_id in dict.fromkeys(u for u in user_ids if u):
        session.execute(insert(CaseFollower).values(case_id=case_id, user_id=user_id).on_conflict_do_nothing())


FOLLOWERS = "notify.followers"  # session.info: {case id: its followers}, read for a whole batch (preload_batch)


def followers(session: Session, case_id: str) -> list[str]:
    known = session.info.get(FOLLOWERS, {}).get(case_id)
    if known is not None:
        return known
    return list(session.scalars(select(CaseFollower.user_id).where(CaseFollower.case_id == case_id)
                                .order_by(CaseFollower.user_id)))


def _record(session: Session, case_id: str, p: Payload, secrets: Secrets | None) -> None:
    """What this event tells about its case."""
    match p.event_type:
        case "intake.case.submitted":
            row = _row(session, case_id)
            row.urgency, row.urgency_at, row.requester_id = p.urgency, p.submitted_at, p.reporter_id
            row.category = p.category[:100]
            if p.external_source and p.external_no:
                if len(p.external_source) <= 20 and len(p.external_no) <= EXTERNAL_NO_MAX:
                    row.external_source, row.external_no = p.external_source, p.external_no
                else:
                    log.warning("notify: intake.case.submitted names an order number too long to write back to")
            if p.caller_phone_sealed and not p.reporter_id:
                _learn_caller(row, secrets, case_id, p.caller_phone_sealed)
        case "intake.case.urgency_changed":
            row = _row(session, case_id)
            if row.urgency_at is None or p.at >= row.urgency_at:  # an older change arriving late loses
                row.urgency, row.urgency_at = p.urgency, p.at
        case "intake.case.joined":
            _follow(session, case_id, [p.user_id])
        case "intake.case.merged":
            # Intake: the child follows the parent's status and outcome, its reporter counts as affected
            # by the parent. So its requester and followers hear of the parent's progress from now on.
            child, parent = session.get(CaseFacts, p.child_case_id), _row(session, p.parent_case_id)
            heard = [child.requester_id if child else None, *followers(session, p.child_case_id)]
            _follow(session, p.parent_case_id, [u for u in heard if u and u != parent.requester_id])
        case "intake.case.reopened":
            row = _row(session, case_id)
            row.reopens, row.dissatisfied = (row.reopens or 0) + 1, False
            row.requester_id = p.reporter_id or row.requester_id
        case "intake.case.evaluated" if p.evaluated:
            _row(session, case_id).dissatisfied = p.satisfaction == "不满意"
        case "routing.case.dispatched" if p.role == "lead":
            row = _row(session, case_id)
            row.lead_work_order_id = p.work_order_id
            row.requester_id = p.requester_id or row.requester_id
            if p.area_path or p.unit_path:
                row.area_path, row.unit_path = p.area_path or None, p.unit_path or None
        case "intake.case.referred":
            _row(session, case_id).category = p.category[:100]
        case "routing.case.closed":
            row = session.get(CaseFacts, case_id)
            if row is not None and row.lead_work_order_id in (None, p.work_order_id):
                # Her phone is kept no longer than she is told: the result and its callback are the last SMS
                # she gets. A message still queued for her carries its own sealed copy (callers.py).
                row.caller_phone = row.caller_phone_index = None
        case "routing.case.resolved" | "routing.case.answered":
            row = _row(session, case_id)
            if row.lead_work_order_id in (None, p.work_order_id):
                # A new result: the reopen window runs from it, and it awaits its own rating.
                row.resolved_at, row.dissatisfied = p.at, False
            row.requester_id = p.requester_id or row.requester_id


def facts(session: Session, cfg: Config, envelope: Envelope, payload: Payload, secrets: Secrets | None = None) -> dict:
    """Record what the event tells about its case; the case's facts as the rules read them (none for
    an event that is not about a case). An event about something else that came of a case (a matter of
    the residents' consultation names the case it came from) reads the case's facts and records none."""
    about_case = envelope.subject.kind == "case"
    case_id = envelope.subject.id if about_case else getattr(payload, "case_id", None)
    if not isinstance(case_id, str) or not case_id:
        return {}
    if about_case:
        _record(session, case_id, payload, secrets)
    row = preload.get(session, CaseFacts, case_id)
    work_order_id = getattr(payload, "work_order_id", None)
    out = {"follower_ids": followers(session, case_id),
           "lead_order": row is None or work_order_id is None or row.lead_work_order_id in (None, work_order_id)}
    if row is None:
        return out | {"dissatisfied": False, "reopenable": False}
    deadline = (row.resolved_at + timedelta(days=cfg.rules.reopen.window_days)
                if row.resolved_at is not None else None)
    at = getattr(payload, "at", None)
    now = at if isinstance(at, datetime) else None
    return out | {
        "caller": caller_of(case_id) if row.caller_phone_index else None,
        "urgency": row.urgency, "requester_id": row.requester_id, "dissatisfied": bool(row.dissatisfied),
        "reopen_deadline": deadline,
        "reopenable": (deadline is not None and (now is None or now < deadline)
                       and (row.reopens or 0) < cfg.rules.reopen.max_reopens),
    }


def preload_batch(session: Session, payloads: list[Payload]) -> None:
    """What a batch of events will ask of its cases, read at once (shared/messaging/preload.py): the cases'
    facts (locked, as `_row` locks them), their followers, and the people the events and the facts name
    (the recipients the rules may reach)."""
    case_ids = sorted({c for c in (getattr(p, "case_id", None) for p in payloads) if isinstance(c, str) and c})
    if not case_ids:
        return
    preload.load(session, CaseFacts, case_ids, lock=True)
    found: dict[str, list[str]] = {c: [] for c in case_ids}
    for case_id, user_id in session.execute(select(CaseFollower.case_id, CaseFollower.user_id)
                                            .where(CaseFollower.case_id.in_(case_ids))
                                            .order_by(CaseFollower.case_id, CaseFollower.user_id)):
        found[case_id].append(user_id)
    session.info.setdefault(FOLLOWERS, {}).update(found)
    people = {u for users in found.values() for u in users}
    for p in payloads:
        for name, value in p:
            if name.endswith("_id") and isinstance(value, str):
                people.add(value)
    for case_id in case_ids:
        row = preload.get(session, CaseFacts, case_id)
        if row is not None and row.requester_id:
            people.add(row.requester_id)
    preload.load(session, Recipient, people)
