"""How long personal data is kept (个人信息保护法: no longer than the purpose needs).

- A case finished longer ago than `retention.personal_data_days` loses its personal data: the
  caller's phone and its index, the requester's name (the 12345 platform's), the address text, the
  free-text answers, its uploads' own file names (门牌_玉林北路88号.png: a name can say whose or
  where, which masking cannot tell); phones
  and ID numbers typed into its description, result text, timeline and evaluation comment are
  masked. (All of these are sealed at rest meanwhile: models.py.) It keeps its category,
  place (the point), statuses and timeline, so statistics and the record of handling stay whole.
- An upload never attached to a case is deleted (row and files) after
  `retention.unattached_upload_hours`.

Each round writes one audit entry with what it did (counts, never the data). Run by the worker's
background thread (service.background); rows are claimed with SKIP LOCKED, so several workers
share the work.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.masking import mask_free_text
from shared.runtime import ServiceRuntime

from . import attachments, config
from .catalogue import current
from .models import Attachment, Case, Evaluation, TimelineEntry


def _claim(session: Session, query):
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


def _kept_answers(answers: dict | None, category) -> dict | None:
    """Answers to choice, number and yes/no questions stay (they describe the matter); free text goes."""
    if not answers:
        return answers
    kinds = {q.key: q.type for q in category.questions} if category is not None else {}
    kept = {k: v for k, v in answers.items() if kinds.get(k) in ("choice", "number", "bool")}
    return kept or None


def anonymise_finished(session: Session, now: datetime, limit: int) -> int:
    """Remove the personal data of cases finished before the retention period; how many."""
    days = config.get().retention.personal_data_days
    cases = _claim(session, select(Case).where(Case.finished_at.is_not(None),
                                               Case.finished_at <= now - timedelta(days=days),
                                               Case.anonymised_at.is_(None))
                   .order_by(Case.finished_at).limit(limit))
    if not cases:
        return 0
    catalogue = current(session)
    for case in cases:
        case.reporter_phone = case.reporter_phone_index = case.address = case.requester_name = None
        case.answers = _kept_answers(case.answers, catalogue.nodes.get(case.category))
        case.description = mask_free_text(case.description) or case.description
        case.result_text = mask_free_text(case.result_text)
        case.anonymised_at = now
        for entry in session.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id)):
            masked = mask_free_text(entry.text)
            if masked != entry.text:
                entry.text = masked
        for ev in session.scalars(select(Evaluation).where(Evaluation.case_id == case.id,
                                                           Evaluation.comment.is_not(None))):
            ev.comment = mask_free_text(ev.comment)
        for attachment in session.scalars(select(Attachment).where(Attachment.case_id == case.id,
                                                                   Attachment.filename.is_not(None))):
            attachment.filename = None
    return len(cases)


def remove_unattached(session: Session, now: datetime, limit: int) -> tuple[int, list[str]]:
    """Delete uploads no case took within the period: how many, and the files they leave (for the
    caller to remove once the deletion is committed)."""
    hours = config.get().retention.unattached_upload_hours
    rows = _claim(session, select(Attachment).where(Attachment.case_id.is_(None),
                                                    Attachment.created_at <= now - timedelta(hours=hours))
                  .order_by(Attachment.created_at).limit(limit))
    if not rows:
        return 0, []
    ids = [a.id for a in rows]
    files = [p for a in rows for p in (a.path, a.thumb_path) if p]
    # Still unattached at the delete: an upload claimed meanwhile is kept.
    gone = session.execute(delete(Attachment).where(Attachment.id.in_(ids), Attachment.case_id.is_(None))
                           .execution_options(synchronize_session=False)).rowcount
    if gone != len(ids):
        kept = set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids))))
        files = [p for a in rows if a.id not in kept for p in (a.path, a.thumb_path) if p]
    return gone, files


def run(rt: ServiceRuntime, now: datetime | None = None) -> int:
    """One round, in a transaction of its own; the number of things done (cases and uploads)."""
    now = now or utcnow()
    limit = config.get().retention.batch
    with rt.unit_of_work() as uow:
        cases = anonymise_finished(uow.session, now, limit)
        uploads, files = remove_unattached(uow.session, now, limit)
        if cases or uploads:
            uow.audit("retention.applied", subject_kind="retention", detail={
                "cases_anonymised": cases, "uploads_removed": uploads,
                "personal_data_days": config.get().retention.personal_data_days,
                "unattached_upload_hours": config.get().retention.unattached_upload_hours})
    root = attachments.root(rt.settings.var_dir)
    for rel in files:  # the rows are gone for good: now their files
        (root / rel).unlink(missing_ok=True)
    return cases + uploads

