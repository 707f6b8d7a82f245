"""The hotline's knowledge base (咨询当场答复): the entries operators answer consultations from,
searched by character bigrams, and edited over the API by `knowledge_editor_roles` (supervisors and
admins; access.check_knowledge_editor).

Version 1 of each shipped entry is data/knowledge.json (config.get().knowledge), as version 1 of the
catalogue is its file. An edit stores the entry's next version whole in `knowledge_versions` (the
file's version 1 is copied there at the first edit, so the history keeps what operators answered
before), and `knowledge_entries` says which version is current and whether the entry is retired.
Every version is kept: a case answered from an entry names the version it cited. Every change is an
audit entry (subject `knowledge`, ids and version numbers only).
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError

from . import access, config, textsim
from .catalogue import current
from .models import KnowledgeEntry, KnowledgeVersion
from .schemas import (
    KnowledgeCreate,
    KnowledgeEntryView,
    KnowledgeHit,
    KnowledgeUpdate,
    KnowledgeVersionInfo,
    KnowledgeView,
)

Audit = Callable[..., None]  # UnitOfWork.audit


@dataclass(frozen=True)
class Entry:
    """One version of an entry, and the entry's state (its current version, whether it is retired)."""

    id: str
    version: int
    title: str
    category: str
    keywords: tuple[str, ...]
    answer: str
    current_version: int = 1
    retired_at: datetime | None = None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


def _shipped() -> dict[str, Entry]:
    """The file's entries at version 1 (config.get() reads it once per process)."""
    return {a.id: Entry(a.id, 1, a.title, a.category, tuple(a.keywords), a.answer)
            for a in config.get().knowledge.articles}


def _entry(state: KnowledgeEntry, v: KnowledgeVersion) -> Entry:
    return Entry(state.id, v.version, v.title, v.category, tuple(json.loads(v.keywords)), v.answer,
                 current_version=state.version, retired_at=state.retired_at)


def _current_rows():
    return select(KnowledgeEntry, KnowledgeVersion).join(
        KnowledgeVersion, and_(KnowledgeVersion.entry_id == KnowledgeEntry.id,
                               KnowledgeVersion.version == KnowledgeEntry.version))


def entries(session: Session) -> list[Entry]:
    """Every entry at its current version, retired ones included: the file's, unless edited."""
    edited = {state.id: _entry(state, v) for state, v in session.execute(_current_rows())}
    return list({**_shipped(), **edited}.values())


def get(session: Session, entry_id: str) -> Entry | None:
    """An entry at its current version; None when there is no such entry."""
    row = session.execute(_current_rows().where(KnowledgeEntry.id == entry_id)).first()
    if row is not None:
        return _entry(*row)
    return _shipped().get(entry_id)


def cited(session: Session, entry_id: str) -> Entry:
    """The entry a consultation answered on the spot cites: it must exist and be current (not
    retired), or the case would claim an answer nobody can look up, or one withdrawn as wrong."""
    entry = get(session, entry_id)
    if entry is None:
        raise ApiError(422, "case.knowledge_unknown", field="knowledge_id")
    if entry.retired:
        raise ApiError(422, "case.knowledge_retired", field="knowledge_id")
    return entry


def _grams(entry: Entry) -> tuple[frozenset[str], frozenset[str]]:
    keys = " ".join([entry.title, *entry.keywords])
    return textsim.bigrams(f"{keys} {entry.answer}"), textsim.bigrams(keys)


def search(session: Session, query: str, limit: int = 5) -> list[KnowledgeHit]:
    """The current entries that best match the query; retired ones are never offered."""
    q = textsim.bigrams(query)
    if not q:
        return []
    scored = []
    for entry in entries(session):
        if entry.retired:
            continue
        grams, key_grams = _grams(entry)
        # Title and keywords weigh more than the body: an operator types the caller's topic.
        score = 2 * len(q & key_grams) / len(q) + len(q & grams) / len(q)
        if score > 0:
            scored.append((round(score, 3), entry))
    scored.sort(key=lambda t: (-t[0], t[1].id))
    return [KnowledgeHit(id=e.id, version=e.version, title=e.title, category=e.category, answer=e.answer, score=s)
            for s, e in scored[:limit]]


# ---------------------------------------------------------------- reading an entry and its versions


def _version_rows(session: Session, entry_id: str) -> list[KnowledgeVersion]:
    return list(session.scalars(select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry_id)
                                .order_by(KnowledgeVersion.version.desc())))


def entry_view(session: Session, entry_id: str) -> KnowledgeEntryView:
    entry = get(session, entry_id)
    if entry is None:
        raise ApiError(404, "knowledge.not_found", field="entry_id")
    rows = _version_rows(session, entry_id)
    versions = [KnowledgeVersionInfo(version=r.version, note=r.note, created_by=r.created_by, created_at=r.created_at)
                for r in rows] or [KnowledgeVersionInfo(version=1)]  # a shipped entry never edited
    return KnowledgeEntryView(**_view(entry).model_dump(), versions=versions)


def version_view(session: Session, entry_id: str, version: int) -> KnowledgeView:
    entry = get(session, entry_id)
    if entry is None:
        raise ApiError(404, "knowledge.not_found", field="entry_id")
    if version == entry.version:
        return _view(entry)
    row = session.get(KnowledgeVersion, (entry_id, version))
    if row is None:
        raise ApiError(404, "knowledge.version_not_found", field="version")
    return _view(Entry(entry_id, row.version, row.title, row.category, tuple(json.loads(row.keywords)), row.answer,
                       current_version=entry.current_version, retired_at=entry.retired_at))


def _view(entry: Entry) -> KnowledgeView:
    return KnowledgeView(id=entry.id, version=entry.version, title=entry.title, category=entry.category,
                         keywords=list(entry.keywords), answer=entry.answer,
                         current=entry.version == entry.current_version, retired=entry.retired,
                         retired_at=entry.retired_at)


# ---------------------------------------------------------------- editing (supervisors, admins)


def _check_category(session: Session, code: str) -> None:
    if code not in current(session).nodes:
        raise ApiError(422, "case.unknown_category", field="category")


def _version(entry_id: str, version: int, body: KnowledgeCreate, by: str, now: datetime) -> KnowledgeVersion:
    return KnowledgeVersion(entry_id=entry_id, version=version, title=body.title, category=body.category,
                            keywords=json.dumps(body.keywords, ensure_ascii=False), answer=body.answer,
                            note=body.note, created_by=by, created_at=now)


def _flush(session: Session) -> None:
    """Here, not at the commit after the endpoint returned: two editors of one entry meet on the
    primary key of its next version (or of its first row), and the loser gets a 409."""
    try:
        session.flush()
    except IntegrityError:
        raise ApiError(409, "knowledge.version_conflict", field="base_version") from None


def _locked(session: Session, entry_id: str) -> KnowledgeEntry:
    """The entry's state row, locked for the change; a shipped entry's first edit creates it (and its
    version 1, copied from the file)."""
    state = session.get(KnowledgeEntry, entry_id, with_for_update=True)
    if state is not None:
        return state
    shipped = _shipped().get(entry_id)
    if shipped is None:
        raise ApiError(404, "knowledge.not_found", field="entry_id")
    state = KnowledgeEntry(id=entry_id, version=1, updated_at=utcnow())
    session.add(state)
    session.add(KnowledgeVersion(entry_id=entry_id, version=1, title=shipped.title, category=shipped.category,
                                 keywords=json.dumps(list(shipped.keywords), ensure_ascii=False),
                                 answer=shipped.answer, note=None, created_by=None, created_at=None))
    _flush(session)
    return state


def create(session: Session, audit: Audit, user: User, body: KnowledgeCreate) -> KnowledgeEntryView:
    access.check_knowledge_editor(user)
    _check_category(session, body.category)
    now = utcnow()
    entry_id = f"kb-{uuid.uuid4().hex[:12]}"
    session.add(KnowledgeEntry(id=entry_id, version=1, updated_at=now))
    session.add(_version(entry_id, 1, body, user.id, now))
    _flush(session)
    audit("intake.knowledge.created", subject_kind="knowledge", subject_id=entry_id, detail={"version": 1})
    return entry_view(session, entry_id)


def update(session: Session, audit: Audit, user: User, entry_id: str, body: KnowledgeUpdate) -> KnowledgeEntryView:
    """The entry's next version; `base_version` is the version the editor started from."""
    access.check_knowledge_editor(user)
    _check_category(session, body.category)
    state = _locked(session, entry_id)
    if state.retired_at is not None:
        raise ApiError(409, "knowledge.retired", field="entry_id")
    if body.base_version != state.version:
        raise ApiError(409, "knowledge.version_conflict", field="base_version",
                       detail=f"current version is {state.version}")
    now = utcnow()
    state.version += 1
    state.updated_at = now
    session.add(_version(entry_id, state.version, body, user.id, now))
    _flush(session)
    audit("intake.knowledge.updated", subject_kind="knowledge", subject_id=entry_id,
          detail={"version": state.version})
    return entry_view(session, entry_id)


def retire(session: Session, audit: Audit, user: User, entry_id: str) -> KnowledgeEntryView:
    """No longer offered in the search nor citable; its versions stay, as do the cases that cited it."""
    access.check_knowledge_editor(user)
    state = _locked(session, entry_id)
    if state.retired_at is not None:
        raise ApiError(409, "knowledge.retired", field="entry_id")
    state.retired_at = state.updated_at = utcnow()
    state.retired_by = user.id
    _flush(session)
    audit("intake.knowledge.retired", subject_kind="knowledge", subject_id=entry_id,
          detail={"version": state.version})
    return entry_view(session, entry_id)
