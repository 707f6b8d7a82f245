"""How intake follows other services' events: routing's work orders, mediation's disputes and the
residents' consultation of 小事 (selfgov's matters).

notify.message.* events also reach intake's queue; intake registers no handler for them, so
the dispatcher acks them without touching the database (the resident's inbox is notify's).
"""

import logging

from shared.config import local_zone
from shared.db import utcnow
from shared.events.mediation import DisputeEvent
from shared.events.routing import CaseLocated, WorkOrderEvent
from shared.events.selfgov import MatterEvent
from shared.messaging import preload
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from . import attachments, evaluation, timeline
from .models import Case, CaseUnit, WorkOrderSeen
from .status import rank, set_status

log = logging.getLogger(__name__)

# Statuses intake itself ended: no routing or mediation event moves a case out of them.
ENDED_AT_INTAKE = frozenset({"withdrawn", "merged", "answered", "self_resolved"})


class CaseMissing(Exception):
    """An event for a case intake does not have: retried, then dead-lettered."""


def _public_text(kind: str, e) -> str | None:
    unit = e.unit_name
    match kind:
        case "dispatched":
            if getattr(e, "kind", "work") == "praise":  # passed on for the unit's record, nothing to handle
                return f"表扬已转达至{unit}"
            return f"已派单：由{unit}办理"
        case "designated":
            return f"已指定由{unit}办理"
        case "signed":
            return f"{unit}已签收"
        case "contacted":
            return f"{unit}已与您联系"
        case "returned":
            if e.awaiting_designation:  # the last allowed dispatch: nobody re-dispatches, a higher level designates
                return "工单已退回，正在由上级指定承办单位"
            return "工单已退回，正在重新派单"
        case "awaiting_designation":
            return "正在由上级指定承办单位"
        case "escalated":
            return "已吹哨，相关部门协同办理"
        case "extended":
            return f"办理期限已延长至 {e.new_result_deadline.astimezone(local_zone()).strftime('%Y-%m-%d %H:%M')}"
        case "resolved":
            return f"已办结（{e.outcome}）：{e.result_text}"
        case "answered":  # the requester's own answer: a suggestion adopted or not, or guidance on a 私事
            if e.kind == "suggestion":
                return f"您的建议{'已被采纳' if e.adopted else '未被采纳'}：{e.answer_text}"
            return f"{unit}的办理指引：{e.answer_text}"
        case "verified":
            return "办理结果已核查" if e.passed else "核查未通过，继续办理"
        case "closed":
            return "已结案"
    return None


def _internal_text(kind: str, e) -> str | None:
    match kind:
        case "dispatched":
            return f"派单依据：{e.rule}"
        case "returned":
            return f"{e.unit_name}退单：{e.reason}（依据：{e.legal_basis}）"
        case "escalated":
            return f"吹哨：{len(e.department_unit_ids)} 个部门" + (f"，{e.note}" if e.note else "")
        case "reported":
            return f"部门 {e.department_unit_id} 已报到" + ("（超时）" if e.late else "")
        case "extended":
            return "延期原因：" + (e.reason or "未说明")
        case "extension_requested":
            return f"{e.unit_name}申请延期 {e.working_days} 个工作日：" + (e.reason or "未说明")
        case "warned":
            return f"预警：{e.clock} 时限将至"
        case "overdue":
            return f"超时：{e.clock} 时限已过"
        case "supervised":
            return f"督办：{e.note}"
        case "verified":
            return f"核查意见：{e.note}" if e.note else None
        case "awaiting_designation":
            return (f"已派单 {e.dispatch_count} 次无人承办，等待{e.designating_unit_name}指定（期限 "
                    f"{e.deadline.astimezone(local_zone()).strftime('%Y-%m-%d %H:%M')}）")
        case "designation_overdue":
            return f"指定期限已过：{e.designating_unit_name}尚未指定承办单位"
        case "report_overdue":
            return f"吹哨：{e.department_name}未在期限内报到"
        case "answered":
            return "答复超过时限" if e.late else None
    return None


# event kind → the status it means (None: a timeline entry only)
ROUTING_STATUS = {"dispatched": "dispatched", "designated": "dispatched", "signed": "signed",
                  "contacted": "contacted", "returned": "returned", "resolved": "resolved",
                  "verified": "verified", "closed": "closed"}
# The current order ended and the case waits for its next owner: re-dispatch, or 指定 by a higher level.
WAITING = frozenset({"returned", "awaiting_designation"})
# routing.case.answered: the order's kind → the status (routing closes the order next: routing.case.closed).
ANSWERED_STATUS = {"suggestion": "suggestion_answered", "guidance": "guided"}


def held_by(session, case: Case, unit_id: str, unit_path: str | None, role: str, at) -> None:
    """Remember a unit that holds (or held) a work order of the case: who may see it (access.py)."""
    row = preload.get(session, CaseUnit, (case.id, unit_id))
    if row is None:
        row = CaseUnit(case_id=case.id, unit_id=unit_id, unit_path=unit_path, role=role, at=at)
        session.add(row)
        preload.put(session, CaseUnit, (case.id, unit_id), row)
    elif unit_path and row.unit_path != unit_path:
        row.unit_path = unit_path


def record_units(session, case: Case, kind: str, event: WorkOrderEvent) -> None:
    """Every unit an event names as holding an order of the case, stale events included (a unit
    that held an order keeps seeing the case); and where the case is (its street's path)."""
    held_by(session, case, event.unit_id, getattr(event, "unit_path", None), getattr(event, "role", "lead"), event.at)
    # Only a department that reported joined the case: report_overdue names one that did not.
    department = getattr(event, "department_unit_id", None) if kind == "reported" else None
    if department:  # 报到: a whistled department joined as co-handler (named by its id only)
        held_by(session, case, department, None, "assist", event.at)
    area = getattr(event, "area_path", None)
    if area and getattr(event, "role", "lead") == "lead":
        case.area_path = area


def apply_routing(ctx: HandlerContext, kind: str, event: WorkOrderEvent) -> None:
    session = ctx.session
    case = preload.get(session, Case, event.case_id, lock=True)
    if case is None:
        raise CaseMissing(event.case_id)
    record_units(session, case, kind, event)
    seen = preload.get(session, WorkOrderSeen, event.work_order_id)
    if seen is not None and event.seq <= seen.last_seq:
        return  # repeated or older than what was applied for this work order
    if seen is None:
        seen = WorkOrderSeen(work_order_id=event.work_order_id, case_id=case.id, last_seq=0,
                             role=getattr(event, "role", "lead"))
        session.add(seen)
        preload.put(session, WorkOrderSeen, event.work_order_id, seen)
    seen.last_seq = event.seq
    public, internal = _public_text(kind, event), _internal_text(kind, event)

    def note_only(why: str) -> None:
        timeline.add(session, case.id, f"routing_{kind}", f"{why}：{public or internal or kind}", public=False,
                     at=event.at)

    if case.status in ENDED_AT_INTAKE:
        return note_only("诉求已在受理端结束，记录工单变化")
    if case.cycle_started_at is not None and event.at < case.cycle_started_at:
        return note_only("重启前的工单变化")
    if kind in ("dispatched", "designated"):
        if getattr(event, "role", "lead") == "assist":
            timeline.add(session, case.id, "assist", f"协办单位：{event.unit_name}", at=event.at)
            return None
        seen.dispatched_at = event.at
        current = preload.get(session, WorkOrderSeen, case.work_order_id) if case.work_order_id else None
        if (current is not None and current.work_order_id != event.work_order_id and case.status not in WAITING
                and current.dispatched_at is not None and event.at < current.dispatched_at):
            return note_only("较早的工单")
        new_order = case.work_order_id != event.work_order_id
        case.work_order_id = event.work_order_id
        case.unit_id, case.unit_name = event.unit_id, event.unit_name
        if new_order or rank("dispatched") > case.status_rank:
            set_status(case, "dispatched")
        if kind == "dispatched":
            follow_result_deadline(session, case, getattr(event, "result_deadline", None), event.at)
    elif event.work_order_id != case.work_order_id:
        return note_only("非当前工单")
    else:
        target = ANSWERED_STATUS[event.kind] if kind == "answered" else ROUTING_STATUS.get(kind)
        if kind == "returned":
            # The current order ended: waiting for the next one, or, after the last allowed dispatch, for a
            # higher level to designate the owner (no one re-dispatches it).
            set_status(case, "awaiting_designation" if event.awaiting_designation else "returned")
        elif kind == "awaiting_designation" and case.status == "returned":
            set_status(case, "awaiting_designation")  # a return told without the flag (an older routing)
        elif kind == "verified" and not event.passed:
            set_status(case, "contacted")  # back to handling
            case.evaluation_due_at = None
        elif target is not None and rank(target) > case.status_rank:
            set_status(case, target)
        if kind == "resolved":
            case.outcome, case.result_text, case.resolved_at = event.outcome, event.result_text, event.at
            evaluation.open_window(session, case, event.work_order_id)
        elif kind == "answered":
            # The answer is the result the requester reads (and may reopen within the window from). No
            # callback window: a suggestion or guidance is not work scored in 三率 (routing's `kind`).
            case.outcome, case.result_text, case.resolved_at = None, event.answer_text, event.at
        elif kind == "closed" and event.outcome:
            case.outcome = event.outcome
        elif kind == "extended":
            follow_result_deadline(session, case, event.new_result_deadline, event.at)
        elif kind in ("warned", "overdue") and event.clock == "result":
            # Routing re-times a clock when the urgency changes without an event of its own: its warnings
            # carry the deadline as it now is.
            follow_result_deadline(session, case, event.deadline, event.at)
    case.updated_at = utcnow()
    if public:
        timeline.add(session, case.id, kind, public, at=event.at)
    if internal:
        timeline.add(session, case.id, "dispatch_rule" if kind == "dispatched" else f"{kind}_note", internal,
                     public=False, at=event.at)
    if kind == "resolved":  # applied as the case's result (a stale or other order's result returned above)
        claim_result_photos(ctx, case, event)
    return None


def follow_result_deadline(session, case: Case, deadline, at) -> None:
    """Routing's result deadline of the current lead order, kept beside the deadline the 12345 platform set
    (views.external_of compares them). When the platform's is the earlier, staff are told once per deadline
    in the internal timeline: routing's clocks decide the case's, but the platform counts by its own."""
    if deadline is None or deadline == case.result_deadline:
        return
    case.result_deadline = deadline
    if case.external_deadline is not None and case.external_deadline < deadline:
        zone = local_zone()
        theirs, ours = case.external_deadline.astimezone(zone), deadline.astimezone(zone)
        timeline.add(session, case.id, "external_deadline_earlier",
                     f"注意：{case.external_source} 平台办理时限 {theirs:%Y-%m-%d %H:%M} 早于本平台办结时限 "
                     f"{ours:%Y-%m-%d %H:%M}", public=False, at=at)


def claim_result_photos(ctx: HandlerContext, case: Case, event) -> None:
    """The result photos routing's resolved event names (`photo_ids`): the resolving handler's own uploads
    no case took yet become the case's (attachments.claim_results). An id that is not hers, not free or not
    there is left alone: an audit entry names those ids (ids only, never a file or a name), and the log
    says how many, so a handler who sent the wrong id can be told without the result failing."""
    ids = getattr(event, "photo_ids", None) or []
    if not ids:
        return
    claimed, left = attachments.claim_results(ctx.session, event.actor_id, ids, case.id)
    if claimed:
        timeline.add(ctx.session, case.id, "result_photos", f"办理单位上传了 {len(claimed)} 张办结照片", at=event.at)
    if left:
        ctx.audit("intake.result_photos.unclaimed", subject_kind="case", subject_id=case.id,
                  detail={"work_order_id": event.work_order_id, "attachment_ids": left, "resolved_by": event.actor_id})
        log.info("case %s: %d result photo id(s) of work order %s not claimed", case.id, len(left),
                 event.work_order_id)


MEDIATION = {
    # event type → (status, public text). Status None: no status change (a public entry only, or, with
    # no text either, an internal note for staff).
    "mediation.case.applied": ("mediation_applied", "调解申请已登记"),
    "mediation.case.accepted": ("mediation_accepted", "人民调解委员会已受理"),
    # 人民调解法 第二十六条: the routes left are 仲裁、行政、司法 — named, as mediation names them.
    "mediation.case.refused": ("mediation_refused", "一方当事人明确拒绝调解，调解不再进行；可以依法通过仲裁、行政、"
                                                    "司法等途径维护自己的权利"),
    "mediation.case.assigned": ("mediation_assigned", "已指派调解员"),
    "mediation.session.scheduled": ("mediation_scheduled", "已安排调解会"),
    "mediation.session.held": ("mediation_held", "调解会已召开"),
    # Signed means in force (第二十九条): every party and the mediator signed, and the committee sealed it.
    "mediation.agreement.signed": ("mediation_agreed",
                                   "调解协议已生效（各方当事人、人民调解员签名并加盖调解委员会印章）"),
    # In force is not performed: the committee follows performance up (第三十一条), told later
    # (mediation.agreement.performed).
    "mediation.case.succeeded": ("mediation_succeeded", "调解成功，调解协议已生效；履行情况由调解委员会回访"),
    # A later fact on a case already ended as succeeded: a line the requester reads, no status of its own.
    "mediation.agreement.performed": (None, "经回访，调解协议约定的义务已履行完毕"),
    "mediation.case.failed": ("mediation_failed", "调解终止，可通过仲裁、行政或司法途径解决"),
    "mediation.risk.raised": (None, None),
    "mediation.case.overdue": (None, None),
    "mediation.followup.due": (None, None),
}
# Mediation events intake deliberately does not handle (acked untouched by the dispatcher), with why.
MEDIATION_IGNORED = {
    # A reminder to a session's participants is notify's to deliver; the session itself is already on the
    # timeline (mediation.session.scheduled), and a reminder changes nothing about the case.
    "mediation.session.reminder": "参会提醒由通知服务发送，诉求进度已有“已安排调解会”",
}
# Routing events intake deliberately does not handle, with why (none at present: every one is at least an
# internal note). Kept beside MEDIATION_IGNORED so the test of both reads one rule.
ROUTING_IGNORED: dict[str, str] = {}
ROUTING_KINDS = ("dispatched", "signed", "contacted", "returned", "designated", "escalated", "reported",
                 "extended", "resolved", "verified", "closed", "warned", "overdue", "supervised", "answered",
                 "awaiting_designation", "designation_overdue", "report_overdue", "extension_requested")


def apply_mediation(ctx: HandlerContext, event_type: str, event: DisputeEvent) -> None:
    if event.case_id is None:
        return  # a dispute that did not come through intake
    session = ctx.session
    case = preload.get(session, Case, event.case_id, lock=True)
    if case is None:
        raise CaseMissing(event.case_id)
    if event.seq <= case.mediation_seq:
        return  # stale or repeated
    case.mediation_seq = event.seq
    case.dispute_id = event.dispute_id
    status, public = MEDIATION[event_type]
    if public is None:
        timeline.add(session, case.id, event_type.split(".", 1)[1], f"调解：{event_type}", public=False,
                     at=event.at)
        return
    if case.status in ENDED_AT_INTAKE:
        timeline.add(session, case.id, "mediation_note", public, public=False, at=event.at)
        return
    if event_type == "mediation.case.failed" and event.reason == "withdrawn":
        public = "调解申请已撤回"
    # Only an event that means a status moves it (up only, as routing's); performance comes after success
    # and leaves the case where it is.
    if status is not None and rank(status) > case.status_rank:
        set_status(case, status)
    timeline.add(session, case.id, status or "mediation_performed", public, at=event.at)


# The residents' consultation (selfgov) of a 小事 case: event → (status, what the requester reads).
SELFGOV: dict[str, tuple[str | None, str]] = {
    "selfgov.matter.raised": (None, "已列为居民议事议题，待居民代表或住户联名提议"),
    "selfgov.matter.on_agenda": ("consultation_agenda", "联名提议达到规定人数，已列入居民议事议程，将依次召开会议商议"),
    "selfgov.matter.publicized": ("consultation_publicized",
                                  "居民代表会议已表决通过，决议正在社区公示，公示期内可提出意见"),
    "selfgov.matter.implementing": ("consultation_implementing", "公示期满，决议已分解为任务，正在组织实施"),
    "selfgov.matter.settled": ("residents_settled", "决议已实施完毕，此事经居民议事解决；决议全文见社区居务公开"),
    "selfgov.matter.rejected": ("consultation_rejected", "经居民议事，此提议未获通过；如有新情况可再次反映"),
}


def apply_selfgov(ctx: HandlerContext, event_type: str, event: MatterEvent) -> None:
    """A step of the residents' consultation on the case it came from, in order (seq), up only."""
    if event.case_id is None:
        return  # a resident's or the committee's own proposal: no case of ours
    session = ctx.session
    case = preload.get(session, Case, event.case_id, lock=True)
    if case is None:
        raise CaseMissing(event.case_id)
    if event.seq <= case.consultation_seq:
        return  # stale or repeated
    case.consultation_seq = event.seq
    status, public = SELFGOV[event_type]
    if case.status in ENDED_AT_INTAKE:
        timeline.add(session, case.id, "consultation_note", public, public=False, at=event.at)
        return
    if status is not None and rank(status) > case.status_rank:
        set_status(case, status)
        if status == "residents_settled":
            case.resolved_at = event.at
    timeline.add(session, case.id, status or "consulting", public, at=event.at)


def apply_location(ctx: HandlerContext, event: CaseLocated) -> None:
    """Where an undispatched case lies (routing located its point): the area whose staff see it and whose
    reports count it. A dispatched case's area comes with its dispatch and is never replaced here."""
    case = preload.get(ctx.session, Case, event.case_id, lock=True)
    if case is None:
        raise CaseMissing(event.case_id)
    if case.area_path is None:
        case.area_path = event.area_path


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for kind in ROUTING_KINDS:
        table[f"routing.case.{kind}.v1"] = lambda ctx, e, kind=kind: apply_routing(ctx, kind, e)
    for event_type in MEDIATION:
        table[f"{event_type}.v1"] = lambda ctx, e, t=event_type: apply_mediation(ctx, t, e)
    for event_type in SELFGOV:
        table[f"{event_type}.v1"] = lambda ctx, e, t=event_type: apply_selfgov(ctx, t, e)
    table["routing.case.located.v1"] = apply_location
    return table


def preload_batch(session, payloads: list) -> None:
    """The rows a batch of routing's, mediation's and the residents' events will ask for, read at once: their
    cases (locked, as each handler locks its case), the work orders seen and the units holding them."""
    case_ids = [getattr(p, "case_id", None) for p in payloads]
    preload.load(session, Case, case_ids, lock=True)
    orders = [p for p in payloads if isinstance(p, WorkOrderEvent)]
    if orders:
        preload.load(session, WorkOrderSeen, [p.work_order_id for p in orders])
        units = [(p.case_id, p.unit_id) for p in orders]
        units += [(p.case_id, p.department_unit_id) for p in orders if getattr(p, "department_unit_id", None)]
        preload.load(session, CaseUnit, units)
