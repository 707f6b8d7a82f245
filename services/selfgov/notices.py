"""居务公开: a community's notices per category, each published for a period; residents of the community read
them, the committee sees how many did; a correction is a new version of the notice, the old one kept as it
was (never an edit), so what was published on a day can always be shown."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import selfgov as ev
from shared.uow import Emit

from . import config
from .models import Notice, NoticeRead


def publish(session: Session, emit: Emit, *, community_code: str, category: str, title: str, body: str,
            publish_from: datetime, publish_until: datetime | None, by: str, now: datetime,
            matter_id: str | None = None) -> Notice:
    known = config.get().notices.category(category)
    if known is None:
        raise ApiError(422, "notice.unknown_category", field="category")
    until = publish_until or publish_from + timedelta(days=known.days)
    if until <= publish_from:
        raise ApiError(422, "notice.bad_period", field="publish_until")
    notice_id = str(uuid.uuid4())
    notice = Notice(id=notice_id, series_id=notice_id, version=1, community_code=community_code, category=category,
                    title=title, body=body, publish_from=publish_from, publish_until=until, published_by=by,
                    published_at=now, matter_id=matter_id)
    session.add(notice)
    session.flush()
    _told(emit, notice, now)
    return notice


def correct(session: Session, emit: Emit, notice: Notice, *, title: str | None, body: str, reason: str, by: str,
            now: datetime) -> Notice:
    """更正: the next version of the series, published from now until the period's end (restarted for its
    category's days when the old one had run out); the corrected version stays, marked superseded."""
    if notice.superseded_at is not None:
        raise ApiError(409, "notice.superseded")
    days = config.get().notices.category(notice.category)
    until = max(notice.publish_until, now + timedelta(days=days.days if days else 7))
    new = Notice(id=str(uuid.uuid4()), series_id=notice.series_id, version=notice.version + 1,
                 community_code=notice.community_code, category=notice.category, title=title or notice.title,
                 body=body, publish_from=now, publish_until=until, published_by=by, published_at=now,
                 correction_reason=reason, matter_id=notice.matter_id)
    notice.superseded_at = now
    session.add(new)
    session.flush()
    _told(emit, new, now)
    return new


def _told(emit: Emit, notice: Notice, now: datetime) -> None:
    emit(ev.NoticePublished(notice_id=notice.id, series_id=notice.series_id, version=notice.version,
                            community_code=notice.community_code, category=notice.category,
                            publish_until=notice.publish_until, at=now))


def versions(session: Session, notice: Notice) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.series_id == notice.series_id).order_by(Notice.version)))


def listed(session: Session, community_codes: list[str] | None, *, category: str | None, current_only: bool,
           now: datetime, limit: int, offset: int) -> list[Notice]:
    """The latest versions (of every series), of these communities (None: all); `current_only`: those
    published now, as residents see them."""
    query = select(Notice).where(Notice.superseded_at.is_(None))
    if community_codes is not None:
        query = query.where(Notice.community_code.in_(community_codes))
    if category:
        query = query.where(Notice.category == category)
    if current_only:
        query = query.where(Notice.publish_from <= now, Notice.publish_until > now)
    return list(session.scalars(query.order_by(Notice.publish_from.desc(), Notice.id).limit(limit).offset(offset)))


def mark_read(session: Session, notice: Notice, user_id: str, now: datetime) -> None:
    """A resident opened it: counted once per resident and version."""
    if session.get(NoticeRead, (notice.id, user_id)) is None:
        session.add(NoticeRead(notice_id=notice.id, user_id=user_id, at=now))
        session.flush()


def read_counts(session: Session, notice: Notice) -> list[dict]:
    """How many residents read each version of the notice (the committee's figure, no names)."""
    counts = dict(session.execute(select(NoticeRead.notice_id, func.count()).join(
        Notice, Notice.id == NoticeRead.notice_id).where(Notice.series_id == notice.series_id)
        .group_by(NoticeRead.notice_id)).all())
    return [{"notice_id": v.id, "version": v.version, "reads": counts.get(v.id, 0)} for v in versions(session, notice)]
