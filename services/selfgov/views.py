"""What a reader sees of a record: residents read descriptions and records with phone and ID numbers masked
(shared/masking.py); staff of the community read them whole; names on the roster are always masked."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.masking import mask_address, mask_free_text, mask_name

from . import config, matters
from .config import LEVELS  # noqa: F401 (the level names live beside the configuration)
from .models import STATUS_LABELS, Area, Matter, Meeting, Member, Notice, Objection, Task, TimelineEntry
from .schemas import (
    MatterSummary,
    MatterView,
    MeetingView,
    MemberView,
    NoticeView,
    ObjectionView,
    StageView,
    TallyView,
    TaskView,
    TimelineView,
)


def _text(text: str | None, capacity: str) -> str | None:
    return text if capacity in ("manager", "reader") else mask_free_text(text)


def summary(m: Matter) -> MatterSummary:
    return MatterSummary(id=m.id, title=m.title, level=m.level, community_code=m.community_code,
                         street_code=m.street_code, status=m.status, status_name=STATUS_LABELS[m.status][0],
                         case_no=m.case_no, created_at=m.created_at)


def stage(index: int) -> StageView:
    s = config.get().consultation.stage(index)
    return StageView(index=index, code=s.code, name=s.name, body=s.body, quorum_share=s.quorum_share,
                     majority_share=s.majority_share)


def matter(session: Session, m: Matter, capacity: str) -> MatterView:
    return MatterView(**summary(m).model_dump(), building=m.building, description=_text(m.description, capacity),
                      category=m.category, source=m.source, case_id=m.case_id,
                      stage=stage(m.stage_index) if m.agenda_at is not None and m.status == "on_agenda" else None,
                      tally=TallyView(**matters.tally(session, m)), resolution_id=m.resolution_id,
                      resolution_text=m.resolution_text, notice_id=m.notice_id,
                      publication_ends_at=m.publication_ends_at, agenda_at=m.agenda_at, closed_at=m.closed_at,
                      close_reason=m.close_reason, capacity=capacity)


def meeting(mt: Meeting, capacity: str) -> MeetingView:
    name = next((s.name for s in config.get().consultation.stages if s.code == mt.stage_code), mt.stage_code)
    return MeetingView(id=mt.id, matter_id=mt.matter_id, stage_code=mt.stage_code, stage_name=name,
                       starts_at=mt.starts_at, place=mt.place, notice=mt.notice, status=mt.status, members=mt.members,
                       attended=mt.attended, votes_for=mt.votes_for, votes_against=mt.votes_against,
                       votes_abstain=mt.votes_abstain, result=mt.result, record=_text(mt.record, capacity),
                       supervisor_present=mt.supervisor_present, supervisor_note=mt.supervisor_note,
                       held_at=mt.held_at)


def objection(o: Objection, user_id: str, capacity: str) -> ObjectionView:
    return ObjectionView(id=o.id, text=o.text if o.by_user == user_id else _text(o.text, capacity), at=o.at,
                         mine=o.by_user == user_id, reply=o.reply, replied_at=o.replied_at)


def task(t: Task) -> TaskView:
    return TaskView(id=t.id, title=t.title, owner=t.owner, due_on=t.due_on, status=t.status, done_at=t.done_at,
                    done_note=t.done_note)


def timeline(session: Session, matter_id: str) -> list[TimelineView]:
    rows = session.scalars(select(TimelineEntry).where(TimelineEntry.matter_id == matter_id)
                           .order_by(TimelineEntry.at, TimelineEntry.id))
    return [TimelineView(kind=r.kind, text=r.text, at=r.at) for r in rows]


def member(m: Member) -> MemberView:
    return MemberView(id=m.id, community_code=m.community_code, name=mask_name(m.name) or "",
                      household=mask_address(m.household) or "", building=m.building, representative=m.representative,
                      linked=m.user_id is not None, active=m.active, registered_at=m.registered_at)


def notice(n: Notice) -> NoticeView:
    category = config.get().notices.category(n.category)
    return NoticeView(id=n.id, series_id=n.series_id, version=n.version, community_code=n.community_code,
                      category=n.category, category_name=category.name if category else n.category, title=n.title,
                      body=n.body, publish_from=n.publish_from, publish_until=n.publish_until,
                      published_at=n.published_at, correction_reason=n.correction_reason,
                      superseded=n.superseded_at is not None, matter_id=n.matter_id)


def community_name(session: Session, code: str) -> str:
    area = session.get(Area, code)
    return area.name if area else code
