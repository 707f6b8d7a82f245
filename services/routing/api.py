"""Routing's REST API under /routing/v1."""

import json
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, literal, or_, select
from sqlalchemy.orm import Session

from shared.auth import CurrentUser, StaffUser, User
from shared.db import utcnow
from shared.errors import ApiError
from shared.events.routing import Outcome
from shared.runtime import ServiceRuntime
from shared.web import correlation_id

from . import (
    errors,  # noqa: F401  (registers the error messages)
    ledger,
    responsibility,
    scores,
    settings,
    workflow,
)
from .dispatch import open_order
from .locator import Locator, cached
from .models import Clock, Extension, RoutingCase, Staff, TimelineEntry, Unit, WatchEntry, Whistle, WorkOrder

SUPERVISORS = {"supervisor", "admin"}
DISPATCHERS = {"street_dispatcher", "supervisor", "admin", "operator"}
VERIFIERS = {"street_dispatcher", "community_staff", "supervisor", "admin"}
WHISTLERS = {"street_dispatcher", "community_staff", "supervisor", "admin"}
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
WO = ["工单 work orders"]
LEDGER = settings.load("ledger")
SCORE_READERS = SUPERVISORS | {"street_dispatcher", "community_staff", "operator"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactBody(Strict):
    note: str | None = Field(None, max_length=500, description="联系情况（不含个人信息）")


class ResolveBody(Strict):
    outcome: Outcome = Field(description="办理结果：解决到位/解释到位/帮扶到位/依法处理")
    result_text: str = Field(min_length=2, max_length=4000, description="办理情况说明")
    photos: list[Annotated[str, Field(max_length=500)]] = Field(default=[], max_length=9,
                                                                description="现场照片地址")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "解决到位", "result_text": "已协调环卫公司清运，并增加清运频次。", "photos": []}]})


class VerifyBody(Strict):
    passed: bool
    note: str | None = Field(None, max_length=500)


class ReturnBody(Strict):
    reason: str = Field(min_length=2, max_length=500, description="退单理由")
    legal_basis: str = Field(min_length=2, max_length=500, description="法律/职责依据")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "该路段属市政道路，不属本网格职责", "legal_basis": "《城市道路管理条例》第六条"}]})


class ExtensionBody(Strict):
    working_days: int = Field(ge=1, le=30, description="申请延长的工作日数")
    reason: str = Field(min_length=2, max_length=500)


class DecisionBody(Strict):
    approve: bool
    note: str | None = Field(None, max_length=500)


class WhistleBody(Strict):
    department_codes: list[Annotated[str, Field(max_length=32)]] = Field(min_length=1, max_length=10)
    note: str | None = Field(None, max_length=500)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"department_codes": ["510107900001000"], "note": "占道经营需执法部门到场"}]})


class NoteBody(Strict):
    note: str = Field(min_length=2, max_length=500)


class ReasonBody(Strict):
    reason: str = Field(min_length=2, max_length=500)


class UnitBody(Strict):
    unit_code: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=2, max_length=500)


class DutyBody(Strict):
    on_duty: bool


class ListBody(Strict):
    document: dict = Field(description="职责清单文档（rules、matter_classes、fallback_unit_code）")
    note: str | None = Field(None, max_length=500)


# --------------------------------------------------------------------------- helpers


def staff_unit(session: Session, user: User) -> Unit | None:
    staff = session.get(Staff, user.id)
    if staff is not None:
        return session.get(Unit, staff.unit_id)
    if user.unit_code:
        return session.scalars(select(Unit).where(Unit.code == user.unit_code)).first()
    return None


def get_order(session: Session, order_id: str, lock: bool = False) -> WorkOrder:
    order = session.get(WorkOrder, order_id, with_for_update=lock)
    if order is None:
        raise ApiError(404, "workorder.not_found", field="work_order_id")
    return order


def in_scope(session: Session, user: User, order: WorkOrder) -> bool:
    """Above the order's unit in the tree (or above the street where the case is)."""
    if user.role == "admin":
        return True
    mine = staff_unit(session, user)
    if mine is None or not mine.path:
        return False
    unit = session.get(Unit, order.unit_id)
    street = session.get(Unit, order.street_id) if order.street_id else None
    return any(u is not None and u.path and u.path.startswith(mine.path) for u in (unit, street))


# Matches no unit path (they are "/code/.../"): a user with no known unit sees nothing. Not "\x00",
# which PostgreSQL refuses in a text parameter.
NOWHERE = "//"


def scope_path(session: Session, user: User) -> str | None:
    """The subtree a user's lists and exports are limited to; None for the whole tree (admin or
    the root unit)."""
    if user.role == "admin":
        return None
    mine = staff_unit(session, user)
    if mine is None or not mine.path:
        return NOWHERE
    return None if mine.parent_id is None else mine.path


def require_handler(session: Session, user: User, order: WorkOrder) -> None:
    if user.role == "admin" or order.assignee_id == user.id:
        return
    staff = session.get(Staff, user.id)
    if staff is None or staff.unit_id != order.unit_id:
        raise ApiError(403, "workorder.not_yours")


def require_role(user: User, roles: set[str]) -> None:
    if user.role not in roles:
        raise ApiError(403, "auth.forbidden")


def require_scope(session: Session, user: User, order: WorkOrder, roles: set[str]) -> None:
    require_role(user, roles)
    if not in_scope(session, user, order):
        raise ApiError(403, "workorder.out_of_scope")


def view(session: Session, order: WorkOrder, unit: Unit | None = None, detail: bool = False,
         hide_requester: bool = False) -> dict:
    unit = unit or session.get(Unit, order.unit_id)
    # 保密: the handler sees the matter, not the person. An assisting unit never calls the
    # requester back (its dispatched event carries no requester either), so it is not told.
    hide_requester = hide_requester or order.confidential or order.role == "assist"
    out = {
        "id": order.id, "case_id": order.case_id, "case_no": order.case_no, "status": order.status,
        "role": order.role, "lead_id": order.lead_id, "category": order.category, "urgency": order.urgency,
        "clock_profile": order.clock_profile, "unit_id": unit.id, "unit_code": unit.code, "unit_name": unit.name,
        "assignee_id": order.assignee_id, "confidential": order.confidential,
        "requester_id": None if hide_requester else order.requester_id,
        "rule": order.rule, "rule_id": order.rule_id, "rule_version": order.rule_version,
        "dispatch_no": order.dispatch_no, "designated": order.designated, "seq": order.seq,
        "created_at": order.created_at, "signed_at": order.signed_at, "contacted_at": order.contacted_at,
        "resolved_at": order.resolved_at, "closed_at": order.closed_at,
        "deadlines": {"sign": order.sign_deadline, "contact": order.contact_deadline,
                      "result": order.result_deadline, "return": order.return_deadline},
        "late": {"sign": order.sign_late, "contact": order.contact_late, "result": order.result_late},
        "outcome": order.outcome, "result_text": order.result_text,
        "photos": json.loads(order.photos) if order.photos else [],
        "evaluation": {"evaluated": order.evaluated, "solved": order.solved, "satisfaction": order.satisfaction},
        "excluded": order.excluded, "exclusion_reason": order.exclusion_reason,
    }
    if detail:
        out["timeline"] = [
            # On a confidential order the requester acting (withdrawing, reopening) stays anonymous.
            {"seq": t.seq, "kind": t.kind, "status": t.status,
             "actor_id": None if hide_requester and t.actor_id and t.actor_id == order.requester_id
             else t.actor_id, "at": t.at,
             "detail": json.loads(t.detail) if t.detail else None}
            for t in session.scalars(select(TimelineEntry).where(TimelineEntry.work_order_id == order.id)
                                     .order_by(TimelineEntry.id))
        ]
        out["clocks"] = [
            {"kind": c.kind, "started_at": c.started_at, "warn_at": c.warn_at, "deadline": c.deadline,
             "working_time": c.working_time, "warned": c.warned, "overdue": c.overdue, "stopped_at": c.stopped_at}
            for c in session.scalars(select(Clock).where(Clock.work_order_id == order.id).order_by(Clock.id))
        ]
        out["whistles"] = [
            {"id": w.id, "department_unit_id": w.department_unit_id, "called_at": w.called_at,
             "deadline": w.deadline, "reported_at": w.reported_at, "late": w.late}
            for w in session.scalars(select(Whistle).where(Whistle.work_order_id == order.id))
        ]
        out["extensions"] = [
            {"id": x.id, "working_days": x.working_days, "reason": x.reason, "status": x.status,
             "requested_by": x.requested_by, "decided_by": x.decided_by, "new_deadline": x.new_deadline}
            for x in session.scalars(select(Extension).where(Extension.work_order_id == order.id))
        ]
    return out


def unit_by_code(session: Session, code: str, field: str = "unit_code") -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise ApiError(422, "unit.not_found", field=field)
    return unit


def check_period(period: str) -> None:
    if not PERIOD.match(period):
        raise ApiError(422, "scores.bad_period", field="period")


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1")

    def emit_all(session: Session, request: Request, events: list) -> None:
        for event in events:
            rt.outbox.emit(session, event, correlation_id=correlation_id(request))

    def locator(session: Session) -> Locator:
        return cached(rt, session)

    # ----------------------------------------------------------------------- directory

    @api.get("/grids", tags=["组织与网格 directory"], summary="网格列表（GeoJSON）grids as GeoJSON")
    def grids(user: CurrentUser) -> dict:
        with rt.uow() as session:
            rows = session.scalars(select(Unit).where(Unit.level == "grid").order_by(Unit.code)).all()
            parents = {u.id: u for u in session.scalars(
                select(Unit).where(Unit.id.in_({r.parent_id for r in rows if r.parent_id})))}
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

    @api.get("/units", tags=["组织与网格 directory"], summary="单位列表 units (filter by level or parent)")
    def units(user: StaffUser, level: str | None = None, parent_code: str | None = None) -> list[dict]:
        with rt.uow() as session:
            stmt = select(Unit).order_by(Unit.code)
            if level:
                stmt = stmt.where(Unit.level == level)
            if parent_code:
                stmt = stmt.where(Unit.parent_id == unit_by_code(session, parent_code, "parent_code").id)
            return [{"id": u.id, "code": u.code, "name": u.name, "level": u.level, "kind": u.kind,
                     "unit_type": u.unit_type, "households": u.households, "depth": u.depth}
                    for u in session.scalars(stmt.limit(5000))]

    @api.get("/locate", tags=["组织与网格 directory"], summary="按坐标定位网格 which units contain a point (WGS-84)")
    def locate(user: StaffUser, lat: Annotated[float, Query(ge=-90, le=90)],
               lon: Annotated[float, Query(ge=-180, le=180)]) -> list[dict]:
        with rt.uow() as session:
            hits = locator(session).locate(lon, lat)
        return [{"unit_id": h.unit_id, "code": h.code, "name": h.name, "level": h.level} for h in hits]

    @api.put("/staff/{user_id}/duty", tags=["组织与网格 directory"], summary="设置在岗状态 set on/off duty")
    def set_duty(user_id: str, body: DutyBody, user: StaffUser) -> dict:
        with rt.uow() as session:
            staff = session.get(Staff, user_id)
            if staff is None:
                raise ApiError(404, "staff.not_found", field="user_id")
            if user.id != user_id:
                require_role(user, SUPERVISORS | {"street_dispatcher"})
                path, unit = scope_path(session, user), session.get(Unit, staff.unit_id)
                if path is not None and not (unit is not None and (unit.path or "").startswith(path)):
                    raise ApiError(403, "workorder.out_of_scope", field="user_id")
            staff.on_duty = body.on_duty
            return {"user_id": staff.user_id, "on_duty": staff.on_duty}

    # ----------------------------------------------------------------------- responsibility list

    @api.get("/responsibility", tags=["职责清单 responsibility"], summary="当前职责清单 the active responsibility list")
    def current_list(user: StaffUser) -> dict:
        with rt.uow() as session:
            version, doc = responsibility.active(session)
        return {"version": version, "document": doc}

    @api.post("/responsibility", tags=["职责清单 responsibility"], status_code=201,
              summary="发布新版职责清单 publish a new version (validated; nothing saved when invalid)")
    def publish_list(body: ListBody, user: StaffUser) -> dict:
        require_role(user, SUPERVISORS)
        with rt.uow() as session:
            try:
                version = responsibility.store(session, body.document, created_by=user.id, note=body.note,
                                               now=utcnow())
            except responsibility.InvalidList as exc:
                raise ApiError(422, "responsibility.invalid", field="document",
                               detail="; ".join(exc.problems)) from None
        return {"version": version}

    # ----------------------------------------------------------------------- work orders

    @api.get("/work-orders/mine", tags=WO, summary="我的工单 work orders assigned to me")
    def my_work_orders(user: StaffUser) -> list[dict]:
        with rt.uow() as session:
            rows = session.execute(
                select(WorkOrder, Unit.name).join(Unit, Unit.id == WorkOrder.unit_id)
                .where(WorkOrder.assignee_id == user.id).order_by(WorkOrder.created_at.desc()).limit(200)
            ).all()
        return [
            {"id": w.id, "case_id": w.case_id, "case_no": w.case_no, "status": w.status,
             "category": w.category, "urgency": w.urgency, "unit_name": unit_name, "rule": w.rule,
             "role": w.role, "sign_deadline": w.sign_deadline, "result_deadline": w.result_deadline,
             "created_at": w.created_at}
            for w, unit_name in rows
        ]

    @api.get("/work-orders/{order_id}", tags=WO, summary="工单详情（含时间线、时限）a work order with its timeline")
    def get_work_order(order_id: str, user: StaffUser) -> dict:
        with rt.uow() as session:
            order = get_order(session, order_id)
            staff = session.get(Staff, user.id)
            if not (order.assignee_id == user.id or (staff and staff.unit_id == order.unit_id)
                    or in_scope(session, user, order)):
                raise ApiError(403, "workorder.out_of_scope")
            return view(session, order, detail=True)

    def act(request: Request, order_id: str, fn) -> dict:
        with rt.uow() as session:
            order = get_order(session, order_id, lock=True)
            events = fn(session, order, utcnow())
            emit_all(session, request, events)
            return view(session, order)

    @api.post("/work-orders/{order_id}/sign", tags=WO, summary="签收 sign for a work order")
    def sign(order_id: str, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_handler(session, user, order)
            return workflow.sign(session, order, user.id, now)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/contact", tags=WO, summary="首次联系诉求人 record the first contact")
    def contact(order_id: str, request: Request, user: StaffUser, body: ContactBody | None = None) -> dict:
        def run(session, order, now):
            require_handler(session, user, order)
            return workflow.contact(session, order, user.id, now, body.note if body else None)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/resolve", tags=WO, summary="办结 report the result with an outcome code")
    def resolve(order_id: str, body: ResolveBody, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_handler(session, user, order)
            return workflow.resolve(session, order, user.id, now, outcome=body.outcome,
                                    result_text=body.result_text, photos=body.photos)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/verify", tags=WO, summary="核查 verify the result (optional)")
    def verify(order_id: str, body: VerifyBody, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_scope(session, user, order, VERIFIERS)
            return workflow.verify(session, order, user.id, now, passed=body.passed, note=body.note)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/close", tags=WO, summary="结案 close a resolved work order")
    def close(order_id: str, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_scope(session, user, order, DISPATCHERS)
            return workflow.close(session, order, user.id, now)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/return", tags=WO,
              summary="退单 return within the window with reason and legal basis; re-dispatched or awaits 指定")
    def return_order(order_id: str, body: ReturnBody, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_handler(session, user, order)
            events = workflow.return_order(session, order, user.id, now, reason=body.reason,
                                           legal_basis=body.legal_basis)
            rc = session.get(RoutingCase, order.case_id)
            if rc.state != "awaiting_designation":
                from .dispatch import redispatch

                events += redispatch(session, locator(session), rc, now)
            return events
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/reassign", tags=WO, summary="改派 reassign to another unit (history kept)")
    def reassign(order_id: str, body: UnitBody, request: Request, user: StaffUser) -> dict:
        with rt.uow() as session:
            order = get_order(session, order_id, lock=True)
            require_scope(session, user, order, DISPATCHERS)
            unit = unit_by_code(session, body.unit_code)
            now = utcnow()
            workflow.reassign_close(session, order, user.id, now, body.reason)
            rc = session.get(RoutingCase, order.case_id, with_for_update=True)
            if order.role == "lead":  # an assisting unit changing is not another dispatch of the case
                rc.dispatch_count += 1
            new, event = open_order(session, rc, unit, rule=f"改派：{body.reason}；由{unit.name}（{unit.code}）办理",
                                    rule_id="reassign", rule_version=None, now=now, actor_id=user.id,
                                    role=order.role, lead_id=order.lead_id)
            if order.role == "lead":  # the assisting orders now help the new lead (and close with it)
                for assist in session.scalars(select(WorkOrder).where(
                        WorkOrder.lead_id == order.id, WorkOrder.status.in_(workflow.ALLOWED["supervise"]))):
                    assist.lead_id = new.id
            emit_all(session, request, [event])
            return view(session, new)

    @api.post("/cases/{case_id}/designate", tags=WO, status_code=201,
              summary="指定 a supervisor names the owner after three dispatches")
    def designate(case_id: str, body: UnitBody, request: Request, user: StaffUser) -> dict:
        require_role(user, SUPERVISORS)
        with rt.uow() as session:
            rc = session.get(RoutingCase, case_id, with_for_update=True)
            if rc is None:
                raise ApiError(404, "routing.case_not_found", field="case_id")
            if rc.state != "awaiting_designation":
                raise ApiError(409, "case.not_awaiting_designation", field="case_id")
            last = session.get(WorkOrder, rc.lead_work_order_id) if rc.lead_work_order_id else None
            if not (user.role == "admin" or (last is not None and in_scope(session, user, last))):
                raise ApiError(403, "workorder.out_of_scope", field="case_id")
            unit = unit_by_code(session, body.unit_code)
            now = utcnow()
            rc.dispatch_count += 1
            rc.state = "active"
            rule = f"指定：{body.reason}；由{unit.name}（{unit.code}）办理"
            order, dispatched = open_order(session, rc, unit, rule=rule, rule_id="designation", rule_version=None,
                                           now=now, designated=True, actor_id=user.id)
            events = workflow.designated(session, order, rc, user.id, now)
            # Re-number the dispatched event after the designation, so it stays the case's newest.
            dispatched = dispatched.model_copy(update={"seq": workflow.bump(session, rc, order)})
            emit_all(session, request, [*events, dispatched])
            return view(session, order)

    @api.post("/work-orders/{order_id}/extensions", tags=WO, status_code=201,
              summary="申请延期 request an extension (a supervisor approves)")
    def request_extension(order_id: str, body: ExtensionBody, user: StaffUser) -> dict:
        with rt.uow() as session:
            order = get_order(session, order_id, lock=True)
            require_handler(session, user, order)
            row = workflow.request_extension(session, order, user.id, utcnow(), body.working_days, body.reason)
            session.flush()
            return {"id": row.id, "status": row.status, "working_days": row.working_days}

    @api.post("/extensions/{extension_id}/decision", tags=WO, summary="审批延期 approve or reject an extension")
    def decide_extension(extension_id: int, body: DecisionBody, request: Request, user: StaffUser) -> dict:
        with rt.uow() as session:
            row = session.get(Extension, extension_id, with_for_update=True)
            if row is None:
                raise ApiError(404, "extension.not_found", field="extension_id")
            order = get_order(session, row.work_order_id, lock=True)
            require_scope(session, user, order, SUPERVISORS)
            if row.requested_by == user.id:  # a supervisor handling an order asks someone else
                raise ApiError(403, "extension.self_approval", field="extension_id")
            events = workflow.decide_extension(session, order, row, user.id, utcnow(), body.approve, body.note)
            emit_all(session, request, events)
            return {"id": row.id, "status": row.status, "new_deadline": row.new_deadline}

    @api.post("/work-orders/{order_id}/whistle", tags=["吹哨报到 whistle"],
              summary="吹哨 call departments to report within 30 minutes (default)")
    def whistle(order_id: str, body: WhistleBody, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_role(user, WHISTLERS)
            if not in_scope(session, user, order):
                require_handler(session, user, order)
            dept_levels = {"department", "utility"}
            depts = []
            for i, code in enumerate(dict.fromkeys(body.department_codes)):
                unit = unit_by_code(session, code, f"department_codes.{i}")
                if unit.level not in dept_levels and unit.kind not in dept_levels:
                    raise ApiError(422, "unit.not_department", field=f"department_codes.{i}")
                # A second call would stay unanswered for ever (the department reports once) and
                # count against it in the scores.
                if session.scalar(select(Whistle.id).where(Whistle.work_order_id == order.id,
                                                           Whistle.department_unit_id == unit.id).limit(1)):
                    raise ApiError(409, "whistle.already_called", field=f"department_codes.{i}")
                depts.append(unit)
            return workflow.whistle(session, order, user.id, now, depts, body.note)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/report", tags=["吹哨报到 whistle"],
              summary="报到 the whistled department acknowledges and joins as co-handler")
    def report(order_id: str, request: Request, user: StaffUser) -> dict:
        with rt.uow() as session:
            order = get_order(session, order_id, lock=True)
            mine = staff_unit(session, user)
            row = session.scalars(select(Whistle).where(
                Whistle.work_order_id == order.id,
                Whistle.department_unit_id == (mine.id if mine else None)).with_for_update()).first()
            if row is None:
                raise ApiError(403, "whistle.not_called", field="work_order_id")
            emit_all(session, request, workflow.report(session, order, row, user.id, utcnow()))
            # The department co-handles; calling the requester back stays with the lead unit.
            return view(session, order, hide_requester=True)

    @api.post("/work-orders/{order_id}/supervise", tags=["督办 supervision"],
              summary="督办 record supervision; the handler is notified")
    def supervise(order_id: str, body: NoteBody, request: Request, user: StaffUser) -> dict:
        def run(session, order, now):
            require_scope(session, user, order, SUPERVISORS)
            return workflow.supervise(session, order, user.id, now, body.note)
        return act(request, order_id, run)

    @api.post("/work-orders/{order_id}/exclusion", tags=["考核 scores"],
              summary="不计入考核 exclude from scores, with a recorded reason")
    def exclude(order_id: str, body: ReasonBody, user: StaffUser) -> dict:
        with rt.uow() as session:
            order = get_order(session, order_id, lock=True)
            require_scope(session, user, order, SUPERVISORS)
            order.excluded, order.exclusion_reason, order.excluded_by = True, body.reason, user.id
            workflow.timeline(session, order, "excluded", user.id, {"reason": body.reason}, utcnow())
            return view(session, order)

    @api.get("/supervision/overdue", tags=["督办 supervision"],
             summary="超期工单 everything overdue in my subtree")
    def overdue(user: StaffUser, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
        require_role(user, SUPERVISORS | {"street_dispatcher"})
        with rt.uow() as session:
            mine = staff_unit(session, user)
            now = utcnow()
            w = WorkOrder
            late = or_(and_(w.status == "dispatched", w.sign_deadline < now),
                       and_(w.status.in_(("dispatched", "signed")), w.contact_deadline < now),
                       and_(w.status.in_(("dispatched", "signed", "in_progress")), w.result_deadline < now))
            stmt = select(w, Unit).join(Unit, Unit.id == w.unit_id).where(w.role == "lead", late)
            if user.role != "admin":
                stmt = stmt.where(Unit.path.startswith(mine.path if mine and mine.path else NOWHERE))
            rows = session.execute(stmt.order_by(w.result_deadline).limit(limit)).all()
            return [view(session, o, u) for o, u in rows]

    @api.get("/watch-list", tags=["督办 supervision"], summary="重点关注（高风险纠纷）the streets' watch list")
    def watch_list(user: StaffUser) -> list[dict]:
        require_role(user, SUPERVISORS | {"street_dispatcher", "community_staff"})
        with rt.uow() as session:
            stmt = select(WatchEntry).order_by(WatchEntry.raised_at.desc()).limit(500)
            path = scope_path(session, user)
            if path is not None:  # the streets above me (a community sees its street's) or below me
                stmt = stmt.join(Unit, Unit.id == WatchEntry.street_unit_id).where(
                    or_(Unit.path.startswith(path), literal(path).startswith(Unit.path)))
            return [{"dispute_id": e.dispute_id, "case_id": e.case_id, "street_unit_id": e.street_unit_id,
                     "level": e.level, "indicators": json.loads(e.indicators), "raised_at": e.raised_at}
                    for e in session.scalars(stmt)]

    # ----------------------------------------------------------------------- scores and ledgers

    @api.get("/scores", tags=["考核 scores"], summary="考核指标 rates and composite by unit/street/category")
    def get_scores(user: StaffUser, period: str,
                   group_by: Literal["unit", "street", "department", "category"] = "unit") -> dict:
        require_role(user, SCORE_READERS)
        check_period(period)
        with rt.uow() as session:
            rows = scores.scores(session, period, group_by, within=scope_path(session, user))
            return {"period": period, "group_by": group_by, "rows": rows}

    @api.get("/rankings", tags=["考核 scores"], summary="月度排名 monthly ranking of streets or departments")
    def rankings(user: StaffUser, period: str, level: Literal["street", "department"] = "street") -> dict:
        require_role(user, SCORE_READERS)
        check_period(period)
        with rt.uow() as session:
            rows = scores.ranking(session, period, level, within=scope_path(session, user))
            return {"period": period, "level": level, "rows": rows}

    @api.get("/ledger", tags=["考核 scores"], summary="工单台账导出 export the ledger as CSV or XLSX")
    def export_ledger(user: StaffUser, format: str = "csv", period: str | None = None,
                      unit_code: str | None = None, status: str | None = None,
                      category: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=LEDGER["max_rows"], description="最多导出行数")]
                      = LEDGER["default_rows"]) -> Response:
        require_role(user, SCORE_READERS)
        if format not in ("csv", "xlsx"):
            raise ApiError(422, "ledger.bad_format", field="format")
        if period:
            check_period(period)
        with rt.uow() as session:
            path = scope_path(session, user)
            if unit_code:
                unit = unit_by_code(session, unit_code)
                if path is not None and not (unit.path or "").startswith(path):
                    raise ApiError(403, "workorder.out_of_scope", field="unit_code")
                path = unit.path
            # One row more than asked tells whether the export was cut.
            stmt = ledger.query(period, path, status, category).limit(limit + 1)
            data, cut = (ledger.to_csv if format == "csv" else ledger.to_xlsx)(session, stmt, limit)
        name = f"ledger-{period or 'all'}.{format}"
        media = "text/csv; charset=utf-8" if format == "csv" else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                         "X-Ledger-Truncated": "true" if cut else "false"})

    return api

