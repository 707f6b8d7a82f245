"""Event payloads as intake, routing and mediation publish them (ids only)."""

from datetime import UTC, datetime, timedelta

from shared.events.intake import CaseSubmitted
from shared.events.mediation import DisputeAssigned
from shared.events.routing import CaseDispatched, CaseEscalated, CaseOverdue, CaseWarned
from shared.ids import unit_id

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
GRID = "510107001001001"
COMMUNITY = "510107001001000"


def submitted(case_id="c-1", reporter="u-resident-1", **kw):
    return CaseSubmitted(**{"case_no": "2026-11-000001", "category": "env.garbage", "channel": "app", **kw},
                         case_id=case_id, reporter_id=reporter, submitted_at=AT)


def dispatched(case_id="c-1", requester="u-resident-1", assignee="u-grid-worker-001001", **kw):
    return CaseDispatched(case_id=case_id, case_no="2026-11-000001", work_order_id=f"wo-{case_id}", seq=1,
                          unit_id=unit_id(GRID), unit_name="玉林北路社区第一网格", at=AT, unit_code=GRID,
                          unit_level="grid", assignee_id=assignee, requester_id=requester, rule="grid", **kw)


def warned(case_id="c-1", clock="sign", at=AT):
    return CaseWarned(case_id=case_id, case_no="2026-11-000001", work_order_id=f"wo-{case_id}", seq=2,
                      unit_id=unit_id(GRID), unit_name="玉林北路社区第一网格", at=at, clock=clock,
                      deadline=at + timedelta(hours=1), assignee_id="u-grid-worker-001001")


def overdue(case_id="c-1", clock="result", at=AT):
    return CaseOverdue(case_id=case_id, case_no="2026-11-000001", work_order_id=f"wo-{case_id}", seq=3,
                       unit_id=unit_id(GRID), unit_name="玉林北路社区第一网格", at=at, clock=clock,
                       deadline=at - timedelta(hours=1), assignee_id="u-grid-worker-001001")


def escalated(case_id="c-1"):
    return CaseEscalated(case_id=case_id, case_no="2026-11-000001", work_order_id=f"wo-{case_id}", seq=4,
                         unit_id=unit_id(GRID), unit_name="玉林北路社区第一网格", at=AT,
                         actor_id="u-grid-worker-001001",
                         department_unit_ids=[unit_id("510107900001000"), unit_id("510107900005000")],
                         report_deadline=AT + timedelta(hours=2))


def assigned(dispute_id="d-1"):
    return DisputeAssigned(dispute_id=dispute_id, dispute_no="TJ-2026-0001", seq=2, at=AT,
                           mediator_ids=["u-mediator-1"], committee_id="cm-1",
                           party_user_ids=["u-resident-2", "u-resident-3"])


# -- issue 12: the events notify now tells people about, as the other services publish them ---------------
def order_fields(case_id="c-1", seq=1, at=AT, work_order_id=None):
    return dict(case_id=case_id, case_no="2026-11-000001", work_order_id=work_order_id or f"wo-{case_id}", seq=seq,
                unit_id=unit_id(GRID), unit_name="玉林北路社区第一网格", at=at)


def joined(case_id="c-1", user="u-resident-2"):
    from shared.events.intake import CaseJoined
    return CaseJoined(case_id=case_id, user_id=user, interest_count=2, at=AT)


def resolved(case_id="c-1", requester="u-resident-1", at=AT, **kw):
    from shared.events.routing import CaseResolved
    return CaseResolved(**order_fields(case_id, seq=5, at=at, **kw), actor_id="u-grid-worker-001001",
                        outcome="解决到位", result_text="已清运", requester_id=requester)


def evaluated(case_id="c-1", satisfaction="不满意", at=AT + timedelta(days=1)):
    from shared.events.intake import CaseEvaluated
    return CaseEvaluated(case_id=case_id, case_no="2026-11-000001", work_order_id=f"wo-{case_id}",
                         unit_id=unit_id(GRID), evaluated=True, contacted=True, solved=satisfaction != "不满意",
                         satisfaction=satisfaction, at=at)


def closed(case_id="c-1", requester="u-resident-1", at=AT + timedelta(days=1)):
    from shared.events.routing import CaseClosed
    return CaseClosed(**order_fields(case_id, seq=6, at=at), outcome="解决到位", requester_id=requester)


def reopened(case_id="c-1", reporter="u-resident-1", at=AT + timedelta(days=2)):
    from shared.events.intake import CaseReopened
    return CaseReopened(case_id=case_id, case_no="2026-11-000001", reporter_id=reporter,
                        previous_unit_id=unit_id(GRID), at=at)


def urgency_changed(case_id="c-1", urgency="特急", previous="一般", at=AT):
    from shared.events.intake import CaseUrgencyChanged
    return CaseUrgencyChanged(case_id=case_id, case_no="2026-11-000001", urgency=urgency, previous=previous, at=at)
