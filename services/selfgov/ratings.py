"""居民直评: residents on a community's roster rate the community (its two committees, its cadres) and the grid
that serves them, once per period, anonymously; the scores feed the units' assessment beside the per-case
evaluations (routing's scores combine them by unit id, the weights are configuration).

Anonymous in results: a rating row holds the answers, the community, the grid and the day it was counted, never
who; that a resident rated in a period is a separate row holding only a keyed hash of her verified phone and
the period (`RatingBallot`), so the second answer is refused without anyone being able to tell which answers
were hers. The answers and the ballot are written in one transaction, which ties them together (the
transaction id, the insertion order, the time) for whoever reads the database with the index key: so the
answers first wait (`WaitingRating`) and are counted in batches of at least `release_batch` per community, or
all at once when the period is over, shuffled, in a transaction of the background job (`release`). Until
then they are not in the scores.
"""

import hashlib
import json
import random
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import periods
from shared.config import local_zone
from shared.errors import ApiError
from shared.ids import unit_id

from . import config, directory
from .models import Area, Member, Rating, RatingBallot, WaitingRating, new_id
from .roster import Index


def period_of(day: date) -> str:
    """The rating period a local day falls in (data/rating.json `period`)."""
    kind = config.get().rating.period
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind == "half":
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    return f"{day.year}"


def local_day(now: datetime) -> date:
    return now.astimezone(local_zone()).date()


def submit(session: Session, index: Index, member: Member, *, grid_code: str | None, answers: dict[str, int],
           now: datetime) -> tuple[WaitingRating, str]:
    """Her answers, waiting to be counted (`release`), and her ballot for the period."""
    cfg = config.get().rating
    if grid_code is not None and grid_code not in {g.code for g in directory.grids_of(session, member.community_code)}:
        raise ApiError(422, "rating.unknown_grid", field="grid_code")
    wanted = {q.code for q in cfg.questions if q.about == "community" or grid_code is not None}
    if grid_code is None and set(answers) & {q.code for q in cfg.questions if q.about == "grid"}:
        # She answered about her grid without saying which one: name it, or leave those questions out.
        raise ApiError(422, "rating.grid_required", field="grid_code")
    if set(answers) != wanted or any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= cfg.scale_max
                                     for v in answers.values()):
        raise ApiError(422, "rating.bad_answers", field="answers")
    day = local_day(now)
    period = period_of(day)
    key = index(f"{member.phone_index}|{period}", "selfgov-rating")
    if session.get(RatingBallot, (period, key)) is not None:
        raise ApiError(409, "rating.already_given")
    try:
        with session.begin_nested():  # two answers at once: the primary key lets one through
            session.add(RatingBallot(period=period, voter_key=key))
    except IntegrityError:
        raise ApiError(409, "rating.already_given") from None
    waiting = WaitingRating(community_code=member.community_code, period=period, grid_code=grid_code, answers=answers)
    session.add(waiting)
    session.flush()
    return waiting, period


_SHUFFLE = random.SystemRandom()


def release(session: Session, now: datetime, batch: int | None = None) -> int:
    """Count the waiting ratings of each community and period of which at least `batch` (`release_batch`) wait,
    and all of a period that is over: into `ratings` in random order, with new ids and today's date. A group of
    which another scanner holds rows is left to it. Returns how many were counted."""
    size = batch or config.get().rating.release_batch
    groups = session.execute(select(WaitingRating.period, WaitingRating.community_code, func.count())
                             .group_by(WaitingRating.period, WaitingRating.community_code)
                             .order_by(WaitingRating.period, WaitingRating.community_code)).all()
    counted = 0
    for period, community, seen in groups:
        over = periods.parse(period).end <= now
        if seen < size and not over:
            continue  # not a batch yet: nothing to lock
        rows = list(session.scalars(select(WaitingRating).where(WaitingRating.period == period,
                                                                WaitingRating.community_code == community)
                                    .with_for_update(skip_locked=True)))
        if len(rows) < seen:
            # Another scanner holds some of them: it counts the group, and a rating committed meanwhile must not
            # be counted here as a batch of its own.
            continue
        if not rows:
            continue
        _SHUFFLE.shuffle(rows)
        day = local_day(now)
        session.execute(insert(Rating), [
            {"id": new_id(), "community_code": r.community_code, "period": r.period,
             "grid_code": r.grid_code, "answers": r.answers, "submitted_on": day} for r in rows])
        session.execute(delete(WaitingRating).where(WaitingRating.id.in_([r.id for r in rows])))
        counted += len(rows)
    return counted


def rating_periods(p: periods.Period) -> list[str]:
    """The rating periods wholly inside a reporting period (a year holds four quarterly ratings; a month
    holds no quarterly one)."""
    found = {period_of(date(int(m[:4]), int(m[5:]), 1)) for m in p.months}
    return sorted(label for label in found if set(periods.parse(label).months) <= set(p.months))


def scores(session: Session, period: str, community_codes: list[str] | None) -> list[dict]:
    """Each community's and each rated grid's score in a period: per question the mean answer, and the score
    0–100 as the weighted mean over the unit's questions of (mean − 1) / (max − 1) × 100 (1 is the worst
    answer, max the best); null below the configured number of responses."""
    cfg = config.get().rating
    p = periods.parse(period, "selfgov.bad_period")
    query = select(Rating).where(Rating.period.in_(rating_periods(p)))
    if community_codes is not None:
        query = query.where(Rating.community_code.in_(community_codes))
    by_unit: dict[str, list[Rating]] = {}
    for r in session.scalars(query):
        by_unit.setdefault(r.community_code, []).append(r)
        if r.grid_code:
            by_unit.setdefault(r.grid_code, []).append(r)
    rows = []
    for code in sorted(by_unit):
        area = session.get(Area, code)
        about = "grid" if area is not None and area.level == "grid" else "community"
        questions = [q for q in cfg.questions if q.about == about]
        rated = by_unit[code]
        means = {}
        for q in questions:
            given = [r.answers[q.code] for r in rated if q.code in r.answers]
            means[q.code] = round(sum(given) / len(given), 3) if given else None
        weighted = [(q.weight, means[q.code]) for q in questions if means[q.code] is not None]
        score = None
        if len(rated) >= cfg.min_responses and weighted:
            total = sum(w for w, _ in weighted)
            score = round(sum(w * (m - 1) / (cfg.scale_max - 1) * 100 for w, m in weighted) / total, 2)
        rows.append({"unit_code": code, "unit_id": unit_id(code), "unit_name": area.name if area else code,
                     "level": about, "period": p.label, "responses": len(rated), "score": score,
                     "by_question": means})
    return rows


def fingerprint(rows: list[dict]) -> str:
    """A hash of a period's figures (who was rated, by how many, what score): the same figures, the same hash."""
    figures = sorted((r["unit_code"], r["responses"], r["score"]) for r in rows)
    return hashlib.sha256(json.dumps(figures, ensure_ascii=False).encode()).hexdigest()


def waiting(session: Session, period: str) -> bool:
    """Whether ratings of the period wait to be counted (held by a scanner that is counting them, too)."""
    return session.scalar(select(WaitingRating.id).where(WaitingRating.period == period).limit(1)) is not None
