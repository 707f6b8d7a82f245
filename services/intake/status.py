"""A case's statuses, their order, and the rule that a stale event never moves a case backwards.

Within one cycle (from submission, or from a reopen) a status has a rank and only moves to a
higher one, with two deliberate exceptions on the *current* work order: a return (退单: the
order ended, the case waits for a new one: `returned`, or `awaiting_designation` when a higher level
must designate it) and a failed verification (back to handling).
Every work order also keeps the last `seq` applied, so a repeated or older event of the same
order is dropped outright; an event of a work order that is not the current one, or from
before the cycle started, is kept as an internal note and changes nothing a resident sees.
"""

from datetime import datetime

from shared.db import utcnow

# status → (rank, Chinese, English)
STATUSES: dict[str, tuple[int, str, str]] = {
    "submitted": (0, "已受理", "Received"),
    "reopened": (0, "已重启，待重新派单", "Reopened"),
    "returned": (5, "已退回，待重新派单", "Returned, awaiting re-dispatch"),
    # A return of the last allowed dispatch: nobody re-dispatches it, a higher level must designate the unit
    # (指定). A status of its own, not `returned`, so the label does not promise a re-dispatch; the same rank
    # and the same deliberate move down on the current order (handlers.py), left by the designated order.
    "awaiting_designation": (5, "已退回，待上级指定承办单位", "Returned, awaiting designation of the handling unit"),
    "referred": (5, "已转人民调解", "Referred to mediation"),
    "dispatched": (10, "已派单", "Dispatched"),
    # A 小事 the catalogue routes to the residents' own consultation (居民议事, the selfgov service): no work
    # order, the residents decide; each step of the matter moves the case (handlers.apply_selfgov).
    "consulting": (10, "已转居民议事，待居民联名提议", "Taken up for the residents' consultation"),
    "consultation_agenda": (20, "已列入居民议事议程", "On the residents' consultation agenda"),
    "consultation_publicized": (30, "议事决议公示中", "The residents' resolution is published for comment"),
    "consultation_implementing": (35, "议事决议实施中", "The residents' resolution is being carried out"),
    "mediation_applied": (10, "调解已登记", "Mediation registered"),
    "signed": (20, "已签收", "Signed for"),
    "mediation_accepted": (20, "调解已受理", "Mediation accepted"),
    "mediation_assigned": (25, "已指派调解员", "Mediator assigned"),
    "contacted": (30, "已联系", "Contacted"),
    "mediation_scheduled": (30, "已安排调解", "Session scheduled"),
    "mediation_held": (35, "调解进行中", "Mediation in progress"),
    "resolved": (50, "已办结，待评价", "Resolved, awaiting your evaluation"),
    # A suggestion (建议) answered, adopted or not, and a private matter (私事) ended with guidance: the
    # order's answer, its result; routing closes the order next (closed).
    "suggestion_answered": (50, "建议已答复", "Suggestion answered"),
    "guided": (50, "已给予办理指引", "Guidance given"),
    # In force (人民调解法 第二十九条: the parties and the mediator signed, the committee sealed), not performed.
    "mediation_agreed": (50, "调解协议已生效", "Agreement in force"),
    "verified": (55, "已核查", "Verified"),
    "closed": (60, "已结案", "Closed"),
    "mediation_succeeded": (60, "调解成功", "Mediation succeeded"),
    "mediation_failed": (60, "调解终止", "Mediation ended without agreement"),
    "mediation_refused": (60, "对方拒绝调解", "A party refused mediation"),
    "answered": (100, "已直接办结", "Answered on the spot"),
    "self_resolved": (100, "网格员已自办自结", "Handled by the grid worker on the spot"),
    "residents_settled": (60, "居民议事已解决", "Settled by the residents' consultation"),
    "consultation_rejected": (60, "居民议事未通过", "Not adopted by the residents' consultation"),
    "withdrawn": (100, "已撤回", "Withdrawn"),
    "merged": (100, "已合并", "Merged into another case"),
}

# Finished: nothing more can be added, joined or withdrawn.
FINISHED = frozenset({"closed", "answered", "self_resolved", "withdrawn", "merged", "mediation_succeeded",
                      "mediation_failed", "mediation_refused", "residents_settled", "consultation_rejected"})
# Still being worked on: what duplicates are looked for among and merges go into.
OPEN = frozenset(s for s in STATUSES if s not in FINISHED and s not in ("resolved", "verified", "mediation_agreed",
                                                                         "suggestion_answered", "guided"))


def rank(status: str) -> int:
    return STATUSES[status][0]


def label(status: str, english: bool = False) -> str:
    entry = STATUSES.get(status)
    if entry is None:
        return status
    return entry[2] if english else entry[1]


def set_status(case, status: str, now: datetime | None = None) -> None:
    """Move a case (models.Case) to `status`, keeping in step the rank that orders statuses and the
    moment it finished (from which its personal data is kept only so long: retention.py)."""
    now = now or utcnow()
    case.status, case.status_rank = status, rank(status)
    case.updated_at = now
    if status not in FINISHED:
        case.finished_at = None
    elif case.finished_at is None:
        case.finished_at = now
