"""Mediation sessions (调解会议): scheduling with the participants, attendance and the record (笔录)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import ApiError
from shared.events import mediation as ev
from shared.offline import SKEW
from shared.uow import Emit

from . import config
from .disputes import active_mediator_ids, parties, publish, require_accepted
from .models import Dispute, MediationSession, Mediator, Participant
from .schemas import SessionCreate, SessionRecordIn


def schedule(session: Session, emit: Emit, dispute: Dispute, body: SessionCreate, by: str) -> MediationSession:
    require_accepted(dispute)
    # The parties are told to come: a time already past is a typo (a wrong year or month), never a meeting
    # they can attend. A device's clock a little ahead of ours is not one.
    if body.starts_at < utcnow() - SKEW:
        raise ApiError(422, "session.in_the_past", field="starts_at")
    if not body.place and not body.online_link:
        raise ApiError(422, "session.place_missing", field="place")
    people = parties(session, dispute.id)
    # 人民调解法: sessions are public or private at the parties' request; one request for privacy is enough.
    if body.privacy == "public" and (dispute.privacy == "private" and any(p.privacy_request == "private"
                                                                          for p in people)):
        raise ApiError(409, "session.private_requested", field="privacy")
    if body.kind == "joint_meeting":
        needed = set(config.get().procedure.joint_meeting_roles)
        if not needed <= {i.role_code for i in body.invitees}:
            raise ApiError(422, "session.joint_meeting_incomplete", field="invitees")
    meeting = MediationSession(dispute_id=dispute.id, kind=body.kind, starts_at=body.starts_at, place=body.place,
                               online_link=body.online_link, privacy=body.privacy, created_by=by)
    session.add(meeting)
    session.flush()
    for p in people:
        session.add(Participant(session_id=meeting.id, kind="party", party_id=p.id, user_id=p.user_id, name=p.name,
                                role_code=p.role))
    for mediator_id in active_mediator_ids(session, dispute.id):
        m = session.get(Mediator, mediator_id)
        session.add(Participant(session_id=meeting.id, kind="mediator", user_id=m.id, name=m.name,
                                role_code="mediator"))
    for i in body.invitees:
        session.add(Participant(session_id=meeting.id, kind="invitee", user_id=i.user_id, name=i.name,
                                role_code=i.role_code))
    session.flush()
    publish(emit, dispute, ev.SessionScheduled, session_id=meeting.id, starts_at=meeting.starts_at,
            online=bool(body.online_link and not body.place),
            participant_user_ids=sorted({u for u in session.scalars(select(Participant.user_id).where(
                Participant.session_id == meeting.id)) if u}))
    return meeting


def record(session: Session, emit: Emit, dispute: Dispute, meeting_id: str, body: SessionRecordIn) -> MediationSession:
    """Attendance and the record (笔录) of a session that took place."""
    meeting = session.get(MediationSession, meeting_id)
    if meeting is None or meeting.dispute_id != dispute.id:
        raise ApiError(404, "session.not_found", field="session_id")
    require_accepted(dispute)
    if meeting.status == "held":
        raise ApiError(409, "session.already_held")
    now = utcnow()
    if now < meeting.starts_at:  # a 笔录 of a meeting that has not taken place is not a record
        raise ApiError(409, "session.not_yet")
    people = {p.id: p for p in session.scalars(select(Participant).where(Participant.session_id == meeting.id))}
    unknown = set(body.attended_participant_ids) - set(people)
    if unknown:
        raise ApiError(422, "session.not_participant", field="attended_participant_ids")
    for pid, p in people.items():
        p.attended = pid in body.attended_participant_ids
    meeting.status, meeting.record, meeting.held_at = "held", body.record, now
    publish(emit, dispute, ev.SessionHeld, session_id=meeting.id,
            attended_user_ids=sorted({p.user_id for p in people.values() if p.attended and p.user_id}))
    return meeting


def of_dispute(session: Session, dispute_id: str) -> list[MediationSession]:
    return list(session.scalars(select(MediationSession).where(MediationSession.dispute_id == dispute_id)
                                .order_by(MediationSession.starts_at)))


def participants(session: Session, meeting_id: str) -> list[Participant]:
    return list(session.scalars(select(Participant).where(Participant.session_id == meeting_id)
                                .order_by(Participant.id)))
