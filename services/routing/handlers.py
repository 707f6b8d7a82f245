"""How routing reacts to other services' events."""

import json

from sqlalchemy import select

from shared.db import utcnow
from shared.events.intake import (
    CaseEvaluated,
    CaseMerged,
    CaseReopened,
    CaseSubmitted,
    CaseUrgencyChanged,
    CaseWithdrawn,
)
from shared.events.mediation import RiskRaised
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from . import clocks, settings, workflow
from .dispatch import dispatch_submitted, open_order
from .locator import Locator, cached
from .models import OPEN_STATUSES, RoutingCase, Unit, WatchEntry, WorkOrder


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    def locator(ctx: HandlerContext) -> Locator:
        return cached(rt, ctx.session)

    def on_submitted(ctx: HandlerContext, event: CaseSubmitted) -> None:
        if event.route != "dispatch":
            return  # mediation and on-the-spot answers never reach a unit
        for dispatched in dispatch_submitted(ctx.session, locator(ctx), event):
            ctx.emit(dispatched)

    def on_reopened(ctx: HandlerContext, event: CaseReopened) -> None:
        """Not satisfied: the same unit handles it again, and the old result counts against it."""
        rc = ctx.session.get(RoutingCase, event.case_id, with_for_update=True)
        if rc is None:
            return
        now = utcnow()
        previous = ctx.session.get(WorkOrder, rc.lead_work_order_id) if rc.lead_work_order_id else None
        unit_id = event.previous_unit_id or (previous.unit_id if previous else None)
        unit = ctx.session.get(Unit, unit_id) if unit_id else None
        if unit is None:
            return
        if previous is not None:
            if previous.status in workflow.ALLOWED["supervise"]:
                return  # still open: a reopening of an order being handled changes nothing
            previous.reopened = True
            if previous.evaluated is not True:
                previous.evaluated, previous.solved, previous.satisfaction = True, False, "不满意"
            workflow.timeline(ctx.session, previous, "reopened", event.reporter_id,
                              {"reason_code": event.reason_code}, now)
        rc.dispatch_count += 1
        rc.state = "active"
        rule = f"重办：诉求人不满意，仍由{unit.name}（{unit.code}）办理"
        _, dispatched = open_order(ctx.session, rc, unit, rule=rule, rule_id="reopen", rule_version=None, now=now)
        ctx.emit(dispatched)

    def on_withdrawn(ctx: HandlerContext, event: CaseWithdrawn) -> None:
        rc = ctx.session.get(RoutingCase, event.case_id, with_for_update=True)
        if rc is not None:
            workflow.cancel_open(ctx.session, event.case_id, "withdrawn", event.by_id, utcnow())
            rc.state = "cancelled"

    def on_urgency_changed(ctx: HandlerContext, event: CaseUrgencyChanged) -> None:
        rc = ctx.session.get(RoutingCase, event.case_id, with_for_update=True)
        if rc is None:
            return  # never dispatched here (a dispute, a consultation answered on the spot)
        rc.urgency = event.urgency
        order = ctx.session.get(WorkOrder, rc.lead_work_order_id) if rc.lead_work_order_id else None
        if order is None or order.status not in OPEN_STATUSES:
            return
        order.urgency = event.urgency
        # A raised urgency overrides the category's own profile: a life-at-risk matter is on the
        # 特急 clock whatever its category; back to 一般, the category's profile applies again.
        profile = (event.urgency if event.urgency != "一般" and event.urgency in settings.clocks()["profiles"]
                   else clocks.profile_name(rc.category, event.urgency, rc.clock_profile))
        now = utcnow()
        if clocks.retime(ctx.session, order, profile, now):
            workflow.timeline(ctx.session, order, "urgency", event.by_id,
                              {"urgency": event.urgency, "previous": event.previous, "clock_profile": profile}, now)

    def on_merged(ctx: HandlerContext, event: CaseMerged) -> None:
        rc = ctx.session.get(RoutingCase, event.child_case_id, with_for_update=True)
        if rc is not None:
            workflow.cancel_open(ctx.session, event.child_case_id, "merged", event.by_id, utcnow())
            rc.state = "merged"

    def on_evaluated(ctx: HandlerContext, event: CaseEvaluated) -> None:
        order = ctx.session.get(WorkOrder, event.work_order_id) if event.work_order_id else None
        if order is None:
            rc = ctx.session.get(RoutingCase, event.case_id)
            order = ctx.session.get(WorkOrder, rc.lead_work_order_id) if rc and rc.lead_work_order_id else None
        if order is None:
            return
        now = utcnow()
        if event.evaluated:
            order.evaluated, order.solved, order.satisfaction = True, event.solved, event.satisfaction
        else:  # no answer in time: not evaluated, never counted as satisfied
            order.evaluated, order.solved, order.satisfaction = False, None, None
        workflow.timeline(ctx.session, order, "evaluated", None,
                          {"evaluated": event.evaluated, "solved": event.solved,
                           "satisfaction": event.satisfaction, "via": event.via}, now)
        if order.status in workflow.ALLOWED["close"]:
            for out in workflow.close(ctx.session, order, None, now):
                ctx.emit(out)

    def on_risk(ctx: HandlerContext, event: RiskRaised) -> None:
        exists = ctx.session.scalar(select(WatchEntry.id).where(WatchEntry.dispute_id == event.dispute_id,
                                                                WatchEntry.level == event.level).limit(1))
        if exists:
            return
        ctx.session.add(WatchEntry(dispute_id=event.dispute_id, case_id=event.case_id,
                                   street_unit_id=event.street_unit_id, level=event.level,
                                   indicators=json.dumps(event.indicators, ensure_ascii=False), raised_at=event.at))

    return {
        "intake.case.submitted.v1": on_submitted,
        "intake.case.reopened.v1": on_reopened,
        "intake.case.withdrawn.v1": on_withdrawn,
        "intake.case.merged.v1": on_merged,
        "intake.case.urgency_changed.v1": on_urgency_changed,
        "intake.case.evaluated.v1": on_evaluated,
        "mediation.risk.raised.v1": on_risk,
    }
