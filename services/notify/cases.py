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
  times) and until when.

A case notify never saw submitted has no urgency and no followers: its messages are as the templates say.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import upsert_insert
from shared.events import Envelope, Payload

from .config import Config
from .models import CaseFacts, CaseFollower


def _row(session: Session, case_id: str) -> CaseFacts:
    """The case's row, made if missing (once, whoever else makes it at the same time)."""
    insert = upsert_insert(session)
    session.execute(insert(CaseFacts).values(case_id=case_id, reopens=0, dissatisfied=False)
                    .on_conflict_do_nothing())
    return session.get(CaseFacts, case_id, with_for_update=True)


def _follow(session: Session, case_id: str, user_ids: list[str]) -> None:
    insert = upsert_insert(session)
    for user_id in dict.fromkeys(u for u in user_ids if u):
        session.execute(insert(CaseFollower).values(case_id=case_id, user_id=user_id).on_conflict_do_nothing())


def followers(session: Session, case_id: str) -> list[str]:
    return list(session.scalars(select(CaseFollower.user_id).where(CaseFollower.case_id == case_id)
                                .order_by(CaseFollower.user_id)))


def _record(session: Session, case_id: str, p: Payload) -> None:
    """What this event tells about its case."""
    match p.event_type:
        case "intake.case.submitted":
            row = _row(session, case_id)
            row.urgency, row.urgency_at, row.requester_id = p.urgency, p.submitted_at, p.reporter_id
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
        case "routing.case.resolved" | "routing.case.answered":
            row = _row(session, case_id)
            if row.lead_work_order_id in (None, p.work_order_id):
                # A new result: the reopen window runs from it, and it awaits its own rating.
                row.resolved_at, row.dissatisfied = p.at, False
            row.requester_id = p.requester_id or row.requester_id


def facts(session: Session, cfg: Config, envelope: Envelope, payload: Payload) -> dict:
    """Record what the event tells about its case; the case's facts as the rules read them (none for
    an event that is not about a case)."""
    if envelope.subject.kind != "case":
        return {}
    case_id = envelope.subject.id
    _record(session, case_id, payload)
    row = session.get(CaseFacts, case_id)
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
        "urgency": row.urgency, "requester_id": row.requester_id, "dissatisfied": bool(row.dissatisfied),
        "reopen_deadline": deadline,
        "reopenable": (deadline is not None and (now is None or now < deadline)
                       and (row.reopens or 0) < cfg.rules.reopen.max_reopens),
    }
