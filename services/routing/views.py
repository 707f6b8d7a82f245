"""What a reader sees of routing's rows. A work order hides its requester from whoever does not
call them back: on a confidential (保密) case, to an assisting unit, to a whistled department; and
the phones and ID numbers staff typed into its free text from readers without the need to see them
(what each reader sees is `access.Sight`)."""

import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.masking import mask_free_text

from .access import Sight
from .designation import returns
from .locator import Located
from .models import Clock, Extension, RoutingCase, Staff, TimelineEntry, Unit, WatchEntry, Whistle, WorkOrder


def _text(value, sight: Sight):
    """Free text as this reader sees it: phones and ID numbers masked unless they may see them;
    every string of a timeline entry's detail likewise."""
    if sight.personal_text or value is None:
        return value
    if isinstance(value, str):
        return mask_free_text(value)
    if isinstance(value, dict):
        return {k: _text(v, sight) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v, sight) for v in value]
    return value


def photo_ids(stored: str | None) -> list[str]:
    """The result photos' ids (intake's attachments, downloaded there by the case's readers). What orders
    resolved before ids were required hold is left out: unchecked text a client sent, which names nothing
    anyone could open, and may be anything it typed."""
    ids = []
    for value in json.loads(stored) if stored else []:
        try:
            ids.append(str(uuid.UUID(value)))
        except (ValueError, TypeError, AttributeError):
            continue
    return ids


def order(session: Session, order: WorkOrder, sight: Sight, unit: Unit | None = None, detail: bool = False) -> dict:
    unit = unit or session.get(Unit, order.unit_id)
    # 保密: the handler sees the matter, not the person. An assisting unit never calls the
    # requester back (its dispatched event carries no requester either), so it is not told.
    hide_requester = not sight.requester or order.confidential or order.role == "assist"
    out = {
        "id": order.id, "case_id": order.case_id, "case_no": order.case_no, "external_no": order.external_no,
        "status": order.status, "role": order.role, "lead_id": order.lead_id, "category": order.category,
        "urgency": order.urgency, "clock_profile": order.clock_profile, "unit_id": unit.id, "unit_code": unit.code,
        "unit_name": unit.name,
        "assignee_id": order.assignee_id, "confidential": order.confidential,
        "requester_id": None if hide_requester else order.requester_id,
        "rule": _text(order.rule, sight), "rule_id": order.rule_id, "rule_version": order.rule_version,
        "dispatch_no": order.dispatch_no, "designated": order.designated, "seq": order.seq,
        "created_at": order.created_at, "signed_at": order.signed_at, "contacted_at": order.contacted_at,
        "resolved_at": order.resolved_at, "closed_at": order.closed_at,
        "deadlines": {"sign": order.sign_deadline, "contact": order.contact_deadline,
                      "result": order.result_deadline, "return": order.return_deadline},
        "late": {"sign": order.sign_late, "contact": order.contact_late, "result": order.result_late},
        "outcome": order.outcome, "result_text": _text(order.result_text, sight),
        "photo_ids": photo_ids(order.photos),
        # `contact_denied`: the requester answered the callback that nobody contacted her (counts
        # against 响应率; supervisors see it here and on the ledger).
        "evaluation": {"evaluated": order.evaluated, "solved": order.solved, "satisfaction": order.satisfaction,
                       "contact_denied": order.contact_denied},
        "kind": order.kind, "adopted": order.adopted,
        "excluded": order.excluded, "exclusion_reason": _text(order.exclusion_reason, sight),
    }
    if detail:
        entries = list(session.scalars(select(TimelineEntry).where(TimelineEntry.work_order_id == order.id)
                                       .order_by(TimelineEntry.id)))
        details = [json.loads(t.detail) if t.detail else None for t in entries]
        named = _unit_names(session, details)
        out["timeline"] = [
            # On a confidential order the requester acting (withdrawing, reopening) stays anonymous.
            {"seq": t.seq, "kind": t.kind, "status": t.status,
             "actor_id": None if hide_requester and t.actor_id and t.actor_id == order.requester_id
             else t.actor_id, "at": t.at,
             "detail": _text(_named(t.kind, d, named), sight) if d else None}
            for t, d in zip(entries, details, strict=True)
        ]
        out["clocks"] = [
            {"kind": c.kind, "started_at": c.started_at, "warn_at": c.warn_at, "deadline": c.deadline,
             "working_time": c.working_time, "warned": c.warned, "overdue": c.overdue, "stopped_at": c.stopped_at}
            for c in session.scalars(select(Clock).where(Clock.work_order_id == order.id).order_by(Clock.id))
        ]
        # The departments by name (and code) as staff read them, never by internal id alone.
        out["whistles"] = [
            {"id": w.id, "department_unit_id": w.department_unit_id, "department_code": dept.code,
             "department_name": dept.name, "called_at": w.called_at, "deadline": w.deadline,
             "reported_at": w.reported_at, "late": w.late}
            for w, dept in session.execute(select(Whistle, Unit).join(Unit, Unit.id == Whistle.department_unit_id)
                                           .where(Whistle.work_order_id == order.id).order_by(Whistle.id))
        ]
        out["extensions"] = [
            {"id": x.id, "working_days": x.working_days, "reason": _text(x.reason, sight), "status": x.status,
             "requested_by": x.requested_by, "decided_by": x.decided_by, "new_deadline": x.new_deadline}
            for x in session.scalars(select(Extension).where(Extension.work_order_id == order.id))
        ]
    return out


# Timeline details written before units were named there (issue 12) hold codes only: which keys, per kind.
_CODES = {"escalated": ("departments", "department_names"), "reported": ("department", "department_name"),
          "dispatched": ("unit_code", "unit_name")}


def _unit_names(session: Session, details: list[dict | None]) -> dict[str, str]:
    codes: set[str] = set()
    for d in details:
        for key, _ in _CODES.values():
            value = (d or {}).get(key)
            codes.update(value if isinstance(value, list) else [value] if isinstance(value, str) else [])
    if not codes:
        return {}
    return dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())


def _named(kind: str, detail: dict, names: dict[str, str]) -> dict:
    """A timeline entry's detail naming its units: an older entry holding only codes gets the names."""
    if kind not in _CODES or not isinstance(detail, dict):
        return detail
    key, name_key = _CODES[kind]
    if name_key in detail or key not in detail:
        return detail
    value = detail[key]
    named = [names.get(c, c) for c in value] if isinstance(value, list) else names.get(value, value)
    return {**detail, name_key: named}


def overdue(session: Session, row, sight: Sight) -> dict:
    """A line of the overdue list (supervision.Overdue): the order, and what is overdue since when."""
    out = order(session, row.order, sight, row.unit)
    out["overdue"] = {"clocks": row.clocks, "since": row.since, "reports": row.reports,
                      "designation_deadline": row.designation_deadline}
    return out


def awaiting_designation(session: Session, rc: RoutingCase, last: WorkOrder, unit: Unit, clock: Clock | None,
                         sight: Sight, now) -> dict:
    """A case waiting for 指定: what it is, who returned it and why (by name), and its clock."""
    return {
        "case_id": rc.case_id, "case_no": rc.case_no, "external_no": rc.external_no, "category": rc.category,
        "matter_class": rc.matter_class,
        "urgency": rc.urgency, "kind": rc.kind, "dispatch_count": rc.dispatch_count,
        "last_work_order_id": last.id, "last_unit_code": unit.code, "last_unit_name": unit.name,
        "returns": [{**r, "reason": _text(r["reason"], sight), "legal_basis": _text(r["legal_basis"], sight)}
                    for r in returns(session, rc.case_id)],
        "waiting_since": clock.started_at if clock else last.updated_at,
        "deadline": clock.deadline if clock else None,
        "overdue": bool(clock and clock.deadline < now),
    }


def order_summary(order: WorkOrder, unit_name: str, whistled: bool = False) -> dict:
    """A line of a handler's own list (they are its assignee: nothing to hide); `whistled`: listed
    because one of the handler's units was whistled for it and must still report."""
    return {"id": order.id, "case_id": order.case_id, "case_no": order.case_no, "external_no": order.external_no,
            "status": order.status,
            "category": order.category, "urgency": order.urgency, "unit_name": unit_name, "rule": order.rule,
            "role": order.role, "sign_deadline": order.sign_deadline, "result_deadline": order.result_deadline,
            "created_at": order.created_at, "whistled": whistled}


def grids(rows: list[Unit], parents: dict[str, Unit]) -> dict:
    """The grids as a GeoJSON FeatureCollection, each named with its community."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": u.code,
                "geometry": json.loads(u.geometry) if u.geometry else None,
                "properties": {
                    "id": u.id, "code": u.code, "name": u.name, "name_en": u.name_en,
                    "households": u.households,
                    "parent_code": parents[u.parent_id].code if u.parent_id in parents else None,
                    "parent_name": parents[u.parent_id].name if u.parent_id in parents else None,
                },
            }
            for u in rows
        ],
    }


def unit(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "level": u.level, "kind": u.kind,
            "unit_type": u.unit_type, "households": u.households, "depth": u.depth}


def located(hit: Located) -> dict:
    return {"unit_id": hit.unit_id, "code": hit.code, "name": hit.name, "level": hit.level}


def duty(staff: Staff) -> dict:
    return {"user_id": staff.user_id, "on_duty": staff.on_duty}


def extension_request(row: Extension, needs_district: bool = False) -> dict:
    """`needs_district`: approving it takes the order beyond its cap, so only the district decides."""
    return {"id": row.id, "status": row.status, "working_days": row.working_days, "needs_district": needs_district}


def extension_decision(row: Extension) -> dict:
    return {"id": row.id, "status": row.status, "new_deadline": row.new_deadline}


def watch_entry(e: WatchEntry) -> dict:
    return {"dispute_id": e.dispute_id, "case_id": e.case_id, "street_unit_id": e.street_unit_id,
            "level": e.level, "indicators": json.loads(e.indicators), "raised_at": e.raised_at}
