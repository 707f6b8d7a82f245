"""How routing reacts to other services' events: each a thin call of the rule it triggers."""

from functools import partial

from shared.db import utcnow
from shared.events.grid import PatrolFinished, PatrolRecounted
from shared.events.identity import UserChanged
from shared.events.intake import (
    CaseEvaluated,
    CaseMerged,
    CaseReopened,
    CaseSubmitted,
    CaseUrgencyChanged,
    CaseWithdrawn,
)
from shared.events.mediation import RiskRaised
from shared.events.routing import CaseLocated
from shared.events.selfgov import RatingsScored
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from . import clocks, directory, dispatch, scores, supervision, workflow
from .locator import cached


def on_submitted(rt: ServiceRuntime, ctx: HandlerContext, event: CaseSubmitted) -> None:
    if event.route != "dispatch":
        # Mediation, on-the-spot answers, 自办自结 and the residents' consultation never reach a unit; intake
        # is told where the case lies all the same, and 自办自结 counts in the grid's work there.
        located = (cached(rt, ctx.session).locate(event.lon, event.lat)
                   if event.lat is not None and event.lon is not None else [])
        if located:
            area = directory.unit(ctx.session, located[0].unit_id)
            if area is not None and area.path:
                ctx.emit(CaseLocated(case_id=event.case_id, area_path=area.path, at=utcnow()))
        if event.route == "direct" and event.closed_as == "self_resolved" and event.channel == "grid_patrol":
            scores.record_self_resolved(ctx.session, case_id=event.case_id, located=located,
                                        worker_id=event.reporter_id, submitted_at=event.submitted_at)
        return
    dispatch.dispatch_submitted(ctx.session, ctx.emit, cached(rt, ctx.session), event)


def on_reopened(ctx: HandlerContext, event: CaseReopened) -> None:
    dispatch.reopen(ctx.session, ctx.emit, case_id=event.case_id, previous_unit_id=event.previous_unit_id,
                    reporter_id=event.reporter_id, reason_code=event.reason_code, now=utcnow())


def on_withdrawn(ctx: HandlerContext, event: CaseWithdrawn) -> None:
    workflow.cancel_case(ctx.session, event.case_id, "withdrawn", event.by_id, utcnow())


def on_merged(ctx: HandlerContext, event: CaseMerged) -> None:
    workflow.cancel_case(ctx.session, event.child_case_id, "merged", event.by_id, utcnow())


def on_urgency_changed(ctx: HandlerContext, event: CaseUrgencyChanged) -> None:
    clocks.change_urgency(ctx.session, event.case_id, event.urgency, event.previous, event.by_id, utcnow())


def on_evaluated(ctx: HandlerContext, event: CaseEvaluated) -> None:
    workflow.record_evaluation(ctx.session, ctx.emit, case_id=event.case_id, work_order_id=event.work_order_id,
                               evaluated=event.evaluated, solved=event.solved, satisfaction=event.satisfaction,
                               via=event.via, now=utcnow(), contacted=event.contacted)


def on_risk(ctx: HandlerContext, event: RiskRaised) -> None:
    supervision.watch(ctx.session, dispute_id=event.dispute_id, case_id=event.case_id,
                      street_unit_id=event.street_unit_id, level=event.level, indicators=event.indicators,
                      at=event.at)


def on_user_changed(ctx: HandlerContext, event: UserChanged) -> None:
    directory.staff_changed(ctx.session, user_id=event.user_id, kind=event.kind, role=event.role,
                            unit_codes=event.unit_codes, active=event.active)


def on_ratings_scored(ctx: HandlerContext, event: RatingsScored) -> None:
    scores.record_ratings(ctx.session, event.period, event.units, event.at)


def on_patrol_finished(ctx: HandlerContext, event: PatrolFinished | PatrolRecounted) -> None:
    scores.record_patrol(ctx.session, patrol_id=event.patrol_id, grid_id=event.grid_id, worker_id=event.worker_id,
                         day=event.day, distance_m=event.distance_m, findings=event.finding_count,
                         counted=event.counts)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {
        # The grid index is the runtime's (rebuilt when stale), so the submitted handler needs it.
        "intake.case.submitted.v1": partial(on_submitted, rt),
        "intake.case.reopened.v1": on_reopened,
        "intake.case.withdrawn.v1": on_withdrawn,
        "intake.case.merged.v1": on_merged,
        "intake.case.urgency_changed.v1": on_urgency_changed,
        "intake.case.evaluated.v1": on_evaluated,
        "mediation.risk.raised.v1": on_risk,
        "identity.user.changed.v1": on_user_changed,
        "selfgov.ratings.scored.v1": on_ratings_scored,
        "grid.patrol.finished.v1": on_patrol_finished,
        "grid.patrol.recounted.v1": on_patrol_finished,
    }
