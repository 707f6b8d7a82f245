"""Self-governance's own tables: the directory of areas, the residents' roster, matters for consultation
(议事) with their seconders, meetings, objections, tasks and timeline, the notices of 居务公开 and their
reads, and the residents' ratings. A resident's name, household and phone stay sealed at rest
(shared/sealed.py); she is recognised by the keyed hash of her SMS-verified phone (`phone_index`), as in
mediation. Ratings keep no link to who gave them (`RatingBallot` only says that someone did)."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import BigIntId, UTCDateTime, service_metadata, utcnow
from shared.messaging.tables import messaging_tables
from shared.sealed import Sealed
from shared.tracing import event_log_table


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)


def new_id() -> str:
    return str(uuid.uuid4())


class Area(Base):
    """The organisation's areas (district, street, community, grid) as routing's directory has them: the code,
    the path from the root ("/district/street/community/"), and the outline a case's point is placed by."""

    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    path: Mapped[str] = mapped_column(String(200), index=True)
    area_geojson: Mapped[str | None] = mapped_column(Text)


class Member(Base):
    """A resident on a community's roster (居民名册): a household's registered member, perhaps a representative
    (居民代表). Registered by the community's staff; she is herself once she signs in with the phone registered."""

    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    community_code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(Sealed("selfgov.members.name"))
    phone_index: Mapped[str] = mapped_column(String(64), index=True)
    household: Mapped[str] = mapped_column(Sealed("selfgov.members.household"))  # 户: e.g. 7栋2单元501
    household_index: Mapped[str] = mapped_column(String(64))  # keyed hash: households counted without reading them
    building: Mapped[str | None] = mapped_column(String(40))  # 楼栋, for building-level matters
    representative: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)  # linked when she first signs in
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("community_code", "phone_index", name="uq_members_phone"),)


# A matter's statuses, in order. proposed: collecting seconders; on_agenda: a stage's meeting is due;
# publicizing: the resolution is published (公示) and objections are taken; implementing: tasks under way;
# settled: every task done, the case closed with the resolution. rejected: a stage voted it down;
# declined: the committee did not take it up (with the reason); withdrawn: the resident withdrew the case.
STATUS_LABELS = {
    "proposed": ("征集附议", "Collecting seconders"),
    "on_agenda": ("已列入议程", "On the agenda"),
    "publicizing": ("决议公示中", "Resolution published"),
    "implementing": ("决议实施中", "Being carried out"),
    "settled": ("已办结（居民议事解决）", "Settled by the residents"),
    "rejected": ("议案未通过", "Voted down"),
    "declined": ("不予立项", "Not taken up"),
    "withdrawn": ("已撤回", "Withdrawn"),
}
OPEN_STATUSES = ("proposed", "on_agenda", "publicizing", "implementing")


class Matter(Base):
    __tablename__ = "matters"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    street_code: Mapped[str | None] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(200), index=True)  # where it is consulted, for scoping
    level: Mapped[str] = mapped_column(String(16))  # building | community | street
    building: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Sealed("selfgov.matters.description"))
    category: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(12))  # case | resident | staff
    case_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    case_no: Mapped[str | None] = mapped_column(String(32))
    raised_by: Mapped[str | None] = mapped_column(String(64), index=True)  # the resident who raised it
    status: Mapped[str] = mapped_column(String(16), index=True, default="proposed")
    stage_index: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # numbers the events of this matter
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    agenda_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_id: Mapped[str | None] = mapped_column(String(36))
    resolution_text: Mapped[str | None] = mapped_column(Text)  # published: not personal by design
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_id: Mapped[str | None] = mapped_column(String(36))  # its 公示
    publication_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Second(Base):
    """附议: a member of the matter's community supports putting it on the agenda."""

    __tablename__ = "seconds"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    representative: Mapped[bool] = mapped_column(Boolean)  # as she was when seconding
    household_index: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(12))  # online | in_person (a signature on paper, recorded by staff)
    recorded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("matter_id", "member_id", name="uq_seconds_member"),)


class Meeting(Base):
    """A stage's meeting: convened with notice, then held with attendance, a record and the votes."""

    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id"), index=True)
    stage_code: Mapped[str] = mapped_column(String(32))
    stage_index: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200))
    notice: Mapped[str] = mapped_column(Text)  # 会议通知
    convened_by: Mapped[str] = mapped_column(String(64))
    convened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="convened")  # convened | held
    members: Mapped[int | None] = mapped_column(Integer)  # 应到
    attended: Mapped[int | None] = mapped_column(Integer)  # 实到
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    votes_abstain: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(12))  # passed | rejected | no_quorum
    record: Mapped[str | None] = mapped_column(Sealed("selfgov.meetings.record"))  # 会议记录
    supervisor_present: Mapped[bool | None] = mapped_column(Boolean)
    supervisor_note: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(64))


class Attendance(Base):
    """Who of the roster came to a meeting (representatives' meetings); other bodies are counted only."""

    __tablename__ = "attendance"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)


class Objection(Base):
    """An objection raised while the resolution is published (公示期异议), and the committee's answer."""

    __tablename__ = "objections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(String(36))
    by_user: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Sealed("selfgov.objections.text"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(64))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(60))  # who carries it out: a unit, an organisation or a person
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(64))


class TimelineEntry(Base):
    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    """One version of a notice of 居务公开. A correction is a new version of the same series; the old one is
    kept as it was, marked superseded."""

    __tablename__ = "notices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    series_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    community_code: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(128))  # a resolution's: 议事决议公示： and a 120-character matter title
    body: Mapped[str] = mapped_column(Text)
    publish_from: Mapped[datetime] = mapped_column(UTCDateTime)
    publish_until: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    matter_id: Mapped[str | None] = mapped_column(String(36))
    __table_args__ = (UniqueConstraint("series_id", "version", name="uq_notices_version"),)


class NoticeRead(Base):
    __tablename__ = "notice_reads"
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """One resident's answers, without who gave them: a random id, and the day its batch was counted (ratings
    wait in `ratings_waiting` and come here in shuffled batches: selfgov.ratings.release)."""

    __tablename__ = "ratings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    community_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON)  # question code → score
    submitted_on: Mapped[date] = mapped_column(Date)
    __table_args__ = (Index("ix_ratings_period_community", "period", "community_code"),)


class WaitingRating(Base):
    """A rating given and not yet counted. Written in the transaction that writes her ballot, so the two rows
    share that transaction (PostgreSQL's xmin) and their insertion order: kept here only until a batch of the
    community's ratings is released into `ratings` in random order, in a transaction of its own."""

    __tablename__ = "ratings_waiting"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    community_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (Index("ix_ratings_waiting_period_community", "period", "community_code"),)


class RatingBallot(Base):
    """That a resident rated in a period: a keyed hash of (her roster entry, the period), nothing else."""

    __tablename__ = "rating_ballots"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    voter_key: Mapped[str] = mapped_column(String(64), primary_key=True)


class RatingPublication(Base):
    """What routing was last told of a rating period's figures (selfgov.ratings.scored): a hash of them, so the
    background job publishes only a change, and `final` once the period is over and told for the last time."""

    __tablename__ = "rating_publications"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
