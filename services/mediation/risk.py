"""Risk assessment (低 / 中 / 高 / 极高) from recorded indicators; 高 and above is a 民转刑 warning:
an event for routing (the street's watch list) and the police liaison."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import mediation as ev
from shared.ids import unit_id
from shared.uow import Emit

from . import config
from .config import LEVELS
from .disputes import active_mediator_ids, publish, require_open
from .models import Committee, Dispute, RiskAssessment


def level_for(indicators: list[str], people_involved: int) -> tuple[str, int]:
    rules = config.get().risk
    known = rules.indicators
    for code in indicators:
        if code not in known:
            raise ApiError(422, "risk.unknown_indicator", field="indicators")
    score = sum(known[c].weight for c in set(indicators))
    for at_least, extra in sorted(rules.people_involved_thresholds, reverse=True):
        if people_involved >= at_least:
            score += extra
            break
    if any(c in rules.force_extreme for c in indicators):
        return "极高", score
    for level, threshold in rules.levels:
        if score >= threshold:
            return level, score
    return "低", score


def assess(session: Session, emit: Emit, dispute: Dispute, indicators: list[str], people_involved: int,
           note: str | None, by: str) -> RiskAssessment:
    require_open(dispute)
    level, score = level_for(indicators, people_involved)
    cfg = config.get()
    raise_at = cfg.risk.raise_at
    escalates = level in raise_at and (dispute.risk_raised_level is None
                                       or LEVELS.index(level) > LEVELS.index(dispute.risk_raised_level))
    assessment = RiskAssessment(dispute_id=dispute.id, level=level, score=score, indicators=sorted(set(indicators)),
                                people_involved=people_involved, note=note, assessed_by=by,
                                police_liaison_unit=cfg.procedure.police_liaison_unit_code if escalates
                                else None)
    session.add(assessment)
    dispute.risk_level, dispute.people_involved = level, people_involved
    if escalates:
        # Raised once per escalation: a repeated 高 after a 高 adds no new warning.
        dispute.risk_raised_level = level
        committee = session.get(Committee, dispute.committee_id) if dispute.committee_id else None
        street_code = committee.street_code if committee else None
        publish(emit, dispute, ev.RiskRaised, level=level, indicators=sorted(set(indicators)),
                street_unit_id=unit_id(street_code) if street_code else None, street_code=street_code,
                committee_id=dispute.committee_id, mediator_ids=active_mediator_ids(session, dispute.id),
                police_unit_code=assessment.police_liaison_unit)
    session.flush()
    return assessment


def history(session: Session, dispute_id: str) -> list[RiskAssessment]:
    return list(session.scalars(select(RiskAssessment).where(RiskAssessment.dispute_id == dispute_id)
                                .order_by(RiskAssessment.id)))
