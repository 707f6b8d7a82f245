"""Our statuses as Open311 says them: GeoReport v2's `open` / `closed`, and mySociety's extended statuses
(FixMyStreet's `servicerequestupdates`: OPEN, INVESTIGATING, ACTION_SCHEDULED, IN_PROGRESS, FIXED,
NO_FURTHER_ACTION, CLOSED, DUPLICATE, CANCELLED …; its client lower-cases them and reads `_` as a space).

Why these choices, where ours has no exact twin:
- 已派单 (dispatched: a unit has the order, not yet signed) is INVESTIGATING; 已签收 (signed: the unit took
  it) is ACTION_SCHEDULED; 已联系 (contacted: handling) is IN_PROGRESS. Mediation's steps alike.
- 退单 (returned, or awaiting_designation: waiting for 指定) and a reopen go back to OPEN: the case waits for
  its next order, it has not left us.
- 转人民调解 (referred) is INVESTIGATING, not INTERNAL_REFERRAL: FixMyStreet takes that as closed, while the
  mediation committee's work is followed here to its end.
- 已办结 (resolved) is FIXED and `closed`, though the requester may still reopen it within the window: a
  reopen then shows as OPEN again. An outcome 解释到位 (the demand was explained, not met) is
  NO_FURTHER_ACTION; the three others (solved, assisted, handled by law) FIXED.
- A failed or refused mediation is NO_FURTHER_ACTION; a withdrawn case CANCELLED; a merged one DUPLICATE;
  a consultation answered on the spot CLOSED.
- A 小事 taken up by the residents' consultation (居民议事) moves like an order: taken up INVESTIGATING, on the
  agenda ACTION_SCHEDULED, its resolution published or carried out IN_PROGRESS, settled FIXED, voted down
  NO_FURTHER_ACTION.
"""

# status → (GeoReport v2 status, mySociety's extended status)
STATUS: dict[str, tuple[str, str]] = {
    "submitted": ("open", "OPEN"),
    "reopened": ("open", "OPEN"),
    "returned": ("open", "OPEN"),
    "awaiting_designation": ("open", "OPEN"),
    "referred": ("open", "INVESTIGATING"),
    "dispatched": ("open", "INVESTIGATING"),
    "consulting": ("open", "INVESTIGATING"),
    "consultation_agenda": ("open", "ACTION_SCHEDULED"),
    "consultation_publicized": ("open", "IN_PROGRESS"),
    "consultation_implementing": ("open", "IN_PROGRESS"),
    "mediation_applied": ("open", "INVESTIGATING"),
    "signed": ("open", "ACTION_SCHEDULED"),
    "mediation_accepted": ("open", "ACTION_SCHEDULED"),
    "mediation_assigned": ("open", "ACTION_SCHEDULED"),
    "mediation_scheduled": ("open", "ACTION_SCHEDULED"),
    "contacted": ("open", "IN_PROGRESS"),
    "mediation_held": ("open", "IN_PROGRESS"),
    "resolved": ("closed", "FIXED"),
    "suggestion_answered": ("closed", "CLOSED"),
    "guided": ("closed", "NO_FURTHER_ACTION"),
    "mediation_agreed": ("closed", "FIXED"),
    "verified": ("closed", "FIXED"),
    "closed": ("closed", "FIXED"),
    "mediation_succeeded": ("closed", "FIXED"),
    "mediation_failed": ("closed", "NO_FURTHER_ACTION"),
    "mediation_refused": ("closed", "NO_FURTHER_ACTION"),
    "answered": ("closed", "CLOSED"),
    "self_resolved": ("closed", "FIXED"),
    "residents_settled": ("closed", "FIXED"),
    "consultation_rejected": ("closed", "NO_FURTHER_ACTION"),
    "withdrawn": ("closed", "CANCELLED"),
    "merged": ("closed", "DUPLICATE"),
}
# Every extended status this endpoint may answer (documented in the OpenAPI document and docs/interop.md).
EXTENDED = ("OPEN", "INVESTIGATING", "ACTION_SCHEDULED", "IN_PROGRESS", "FIXED", "NO_FURTHER_ACTION", "CLOSED",
            "CANCELLED", "DUPLICATE")
EXPLAINED = "解释到位"  # the outcome of a demand explained rather than met
BASIC = ("open", "closed")


def basic(status: str) -> str:
    """`open` or `closed`; a status this table does not know yet counts as open (still ours to handle)."""
    return STATUS.get(status, ("open", "OPEN"))[0]


def extended(status: str, outcome: str | None = None) -> str:
    ours = STATUS.get(status, ("open", "OPEN"))[1]
    if ours == "FIXED" and outcome == EXPLAINED and status in ("resolved", "verified", "closed"):
        return "NO_FURTHER_ACTION"
    return ours


def statuses_in(wanted: str) -> list[str]:
    """Our statuses that Open311 calls `wanted` (open or closed), for the query's filter."""
    return [s for s, (b, _) in STATUS.items() if b == wanted]
