"""考核: the rates per unit, street, department or category and period, and the composite score.

Counted over lead work orders (kind `work`: praise, suggestions and 私事 guidance are counted apart
and never in 三率) of the period (month of dispatch, local time) that were neither cancelled,
returned, reassigned, nor excluded with a recorded reason:
- 响应率 response: signed and first contact both in time, and the requester did not answer the
  callback that nobody contacted her / the orders whose response is decided (an order whose sign or
  contact clock still runs is not yet a miss: it had counted as one until its clock ran out)
- 解决率 resolution: rated solved / evaluated (an order whose result was reopened counts unsolved)
- 满意率 satisfaction: rated 满意 or 基本满意 (configurable) / evaluated
- 办结率 completion: resolved / dispatched;  按期办结率 on time: resolved before the deadline / dispatched
- 报到及时率 whistle report (departments): 吹哨 calls reported within their deadline / calls, by the
  month of the call; a call never answered counts as not on time
A rate whose denominator is zero is null ("no data", never 100 %), and its weight is left out of the
composite. A ranking lists every unit but ranks only those with at least `min_scored_orders`
(scoring.json) scored orders in the period: a whistle report or two rank nothing.
Praise (表扬) received and suggestions (建议) answered and adopted (采纳) are counted beside the rates.
- 居民直评 resident_rating (communities, grids; streets the responses-weighted mean of their communities):
  the score 0–100 residents gave in selfgov's periodic rating (selfgov.ratings.scored). A rating period
  counts for every month in it (a quarter's rating is each of its months'); a report spanning several rating
  periods takes their responses-weighted mean. A rating below selfgov's minimum of responses is null.
The grid's work (issue 17: patrols, the ones long enough for the daily rule, distance, findings, 自办自结) is
counted beside the rates for grids and their communities and streets (`grid_work`), never in the composite:
it is activity, not quality, and scoring.json has no weight for it.
"""

from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from shared import periods
from shared.config import local_zone

from . import config
from .directory import under
from .models import GridActivity, ResidentRating, Unit, Whistle, WorkOrder

COUNTED_OUT = ("cancelled", "returned", "reassigned")


def check_period(period: str) -> tuple[str, ...]:
    """The months of a period (a month, quarter, half year or year: shared.periods), or 422."""
    return periods.parse(period, "scores.bad_period").months


def _sum(cond):
    # count(*) FILTER (WHERE ...): PostgreSQL evaluates it far cheaper than sum(CASE ...) over a
    # million rows; SQLite (3.30+) understands it too.
    return func.coalesce(func.count().filter(cond), 0)


COUNTS = ("dispatched", "responded", "response_decided", "evaluated", "solved", "satisfied", "completed", "on_time",
          "contact_denied")
# Counted beside the rates: what the units' records hold besides scored work.
RECORD_COUNTS = ("praise", "suggestions", "suggestions_answered", "suggestions_adopted")


def raw_counts(session: Session, period: str | tuple[str, ...], group_by: str,
               within: str | tuple[str, ...] | None = None):
    """One row per group: key, then COUNTS (over scored work) and RECORD_COUNTS.
    `within`: only orders of units in these subtrees (unit path prefixes), and by street only the streets
    in them; None for the whole tree."""
    satisfied_values = config.get().scoring.satisfied_values
    key = {"unit": WorkOrder.unit_id, "department": WorkOrder.unit_id, "street": WorkOrder.street_id,
           "category": WorkOrder.category}[group_by]
    w = WorkOrder
    work = w.kind == "work"
    suggestion = w.kind == "suggestion"
    stmt = (
        select(key.label("key"), _sum(work).label("dispatched"),
               _sum(and_(work, w.sign_late.is_(False), w.contact_late.is_(False),
                         or_(w.contact_denied.is_(None), w.contact_denied.is_(False)))).label("responded"),
               # Whether it responded in time is known: signed late, contacted (in time or not), past the
               # contact clock, or the requester said nobody contacted her. An order whose clocks still
               # run is neither a response nor a miss yet, so it is left out of the rate's denominator.
               _sum(and_(work, or_(w.sign_late.is_(True), w.contact_late.is_not(None),
                                   w.contact_denied.is_(True)))).label("response_decided"),
               _sum(and_(work, w.evaluated.is_(True))).label("evaluated"),
               _sum(and_(work, w.evaluated.is_(True), w.solved.is_(True))).label("solved"),
               _sum(and_(work, w.evaluated.is_(True), w.satisfaction.in_(satisfied_values))).label("satisfied"),
               _sum(and_(work, w.resolved_at.is_not(None))).label("completed"),
               _sum(and_(work, w.resolved_at.is_not(None), w.result_late.is_(False))).label("on_time"),
               _sum(and_(work, w.contact_denied.is_(True))).label("contact_denied"),
               _sum(w.kind == "praise").label("praise"),
               _sum(suggestion).label("suggestions"),
               _sum(and_(suggestion, w.resolved_at.is_not(None))).label("suggestions_answered"),
               _sum(and_(suggestion, w.adopted.is_(True))).label("suggestions_adopted"))
        .where(w.period.in_(period) if isinstance(period, tuple) else w.period == period,
               w.role == "lead", w.excluded.is_(False), w.status.not_in(COUNTED_OUT),
               # 私事 guidance counts in no unit's scores at all
               w.kind != "guidance")
        .group_by(key)
    )
    if group_by == "street" and within is not None:
        # The street a row adds up must itself be in scope, and then every order located in it counts:
        # a community's staff are not shown a street's rates made of their community's orders alone (nor
        # ranked on them), and whoever sees a street's row sees the same figures (as grid_work).
        stmt = stmt.join(Unit, Unit.id == w.street_id).where(under(Unit.path, within))
        return session.execute(stmt).all()
    if group_by == "department" or within is not None:
        stmt = stmt.join(Unit, Unit.id == w.unit_id)
    if group_by == "department":
        stmt = stmt.where(Unit.level.in_(config.get().levels.units))
    if within is not None:
        stmt = stmt.where(under(Unit.path, within))
    return session.execute(stmt).all()


def whistle_counts(session: Session, period: str | tuple[str, ...],
                   within: str | tuple[str, ...] | None = None) -> dict[str, tuple[int, int]]:
    """Department unit id → (calls, reported on time) for the calls made in the period."""
    tz = local_zone()
    months = []
    for p in period if isinstance(period, tuple) else (period,):
        year, month = (int(x) for x in p.split("-"))
        start = datetime(year, month, 1, tzinfo=tz)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        months.append(and_(Whistle.called_at >= start, Whistle.called_at < end))
    on_time = and_(Whistle.reported_at.is_not(None), Whistle.late.is_(False))
    stmt = (select(Whistle.department_unit_id, func.count(), func.coalesce(func.count().filter(on_time), 0))
            .where(or_(*months)).group_by(Whistle.department_unit_id))
    if within is not None:
        stmt = stmt.join(Unit, Unit.id == Whistle.department_unit_id).where(under(Unit.path, within))
    rows = session.execute(stmt).all()
    return {unit_id: (calls, timely) for unit_id, calls, timely in rows}


def record_ratings(session: Session, period: str, units: list, at: datetime) -> bool:
    """A rating period's figures from selfgov, replacing the period's whole when newer than those kept (a
    unit no longer in them is dropped); False when an older or equal event came late and changed nothing."""
    kept = session.scalar(select(func.max(ResidentRating.as_of)).where(ResidentRating.period == period))
    if kept is not None and kept >= at:
        return False
    session.execute(delete(ResidentRating).where(ResidentRating.period == period))
    session.add_all(ResidentRating(period=period, unit_id=u.unit_id, unit_code=u.unit_code, level=u.level,
                                   responses=u.responses, score=u.score, as_of=at) for u in units)
    return True


def _places(session: Session, unit_id: str | None) -> dict[str, str]:
    """Level → unit id of the unit and the areas above it (its path), e.g. grid, community, street."""
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None or not unit.path:
        return {}
    codes = [c for c in unit.path.split("/") if c]
    return {u.level: u.id for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}


def record_patrol(session: Session, *, patrol_id: str, grid_id: str, worker_id: str, day: str, distance_m: float,
                  findings: int, counted: bool) -> None:
    """A finished patrol (grid.patrol.finished), or its findings recounted after (grid.patrol.recounted). A
    patrol's count only grows, so the larger figure wins whatever order the two arrive in."""
    known = session.get(GridActivity, patrol_id)
    if known is not None:
        known.findings = max(known.findings, findings)
        return
    at = _places(session, grid_id)
    session.add(GridActivity(id=patrol_id, kind="patrol", period=day[:7], grid_id=grid_id,
                             community_id=at.get("community"), street_id=at.get("street"), worker_id=worker_id,
                             distance_m=distance_m, findings=findings, counted=counted))


def record_self_resolved(session: Session, *, case_id: str, located: list, worker_id: str | None,
                         submitted_at: datetime) -> None:
    """自办自结: counted for the grid the case's point lies in (`located`: Locator.locate, finest first)."""
    if session.get(GridActivity, case_id) is not None:
        return
    at = {}
    for loc in located:
        at.setdefault(loc.level, loc.unit_id)
    session.add(GridActivity(id=case_id, kind="self_resolved", period=submitted_at.astimezone(local_zone())
                             .strftime("%Y-%m"), grid_id=at.get("grid"), community_id=at.get("community"),
                             street_id=at.get("street"), worker_id=worker_id, distance_m=0.0, findings=0,
                             counted=False))


GRID_WORK = ("patrols", "patrols_counted", "distance_km", "findings", "self_resolved")


def grid_work(session: Session, months: tuple[str, ...], group_by: str,
              within: str | tuple[str, ...] | None = None) -> dict[str, dict]:
    """Unit id → the grid's work in the months: per grid, and added up per community and street (group
    `unit`), or per street (group `street`)."""
    a = GridActivity
    patrol = a.kind == "patrol"
    columns = (func.coalesce(func.count().filter(patrol), 0), func.coalesce(func.count().filter(
        and_(patrol, a.counted.is_(True))), 0), func.coalesce(func.sum(a.distance_m), 0.0),
        func.coalesce(func.sum(a.findings), 0), func.coalesce(func.count().filter(a.kind == "self_resolved"), 0))
    keys = {"unit": (a.grid_id, a.community_id, a.street_id), "street": (a.street_id,)}.get(group_by, ())
    out: dict[str, dict] = {}
    for key in keys:
        stmt = select(key, *columns).where(a.period.in_(months), key.is_not(None)).group_by(key)
        if within is not None:
            # The area the figures are added up for must itself be in scope: a community's staff see their
            # community's total, not a street's made of their grids alone.
            stmt = stmt.join(Unit, Unit.id == key).where(under(Unit.path, within))
        for unit_id, patrols, counted, metres, findings, settled in session.execute(stmt):
            out[unit_id] = {"patrols": patrols, "patrols_counted": counted, "distance_km": round(metres / 1000, 2),
                            "findings": findings, "self_resolved": settled}
    return out


def resident_ratings(session: Session, months: tuple[str, ...], group_by: str,
                     within: str | tuple[str, ...] | None = None) -> dict[str, tuple[int, float | None]]:
    """Unit id → (responses, score): the rating periods overlapping the months, their scores weighted by
    responses; streets (group `street`, and street units in group `unit`) from their communities'."""
    if group_by not in ("unit", "street"):
        return {}
    wanted = set(months)
    labels = [p for p in session.scalars(select(ResidentRating.period).distinct())
              if wanted & set(periods.parse(p).months)]
    if not labels:
        return {}
    stmt = (select(ResidentRating, Unit.path).join(Unit, Unit.id == ResidentRating.unit_id)
            .where(ResidentRating.period.in_(labels)))
    if within is not None:
        stmt = stmt.where(under(Unit.path, within))
    rows = session.execute(stmt).all()
    # Streets in scope only: a community's staff are not shown a street's rating made of theirs alone.
    streets = {u.code: u.id for u in session.scalars(select(Unit).where(Unit.level == "street",
                                                                        under(Unit.path, within)))}
    sums: dict[str, list] = {}  # unit id → [responses, Σ responses × score, Σ responses scored]

    def add(key: str, r: ResidentRating) -> None:
        acc = sums.setdefault(key, [0, 0.0, 0])
        acc[0] += r.responses
        if r.score is not None:
            acc[1] += r.responses * r.score
            acc[2] += r.responses
    for r, path in rows:
        if group_by == "unit":
            add(r.unit_id, r)
        if r.level == "community":  # the street's: its communities' (a grid's answers are a community's too)
            street = next((streets[c] for c in (path or "").split("/") if c in streets), None)
            if street is not None:
                add(street, r)
    return {k: (n, round(total / scored, 2) if scored else None) for k, (n, total, scored) in sums.items()}


def _rate(num: int, den: int) -> float | None:
    return None if not den else round(100.0 * num / den, 2)


def composite(rates: dict, weights: dict) -> float | None:
    used = {k: w for k, w in weights.items() if rates.get(k) is not None}
    if not used:
        return None
    return round(sum(rates[k] * w for k, w in used.items()) / sum(used.values()), 2)


def scores(session: Session, period: str | tuple[str, ...], group_by: str, weights: dict | None = None,
           within: str | tuple[str, ...] | None = None) -> list[dict]:
    weights = weights or config.get().scoring.weights
    period = check_period(period) if isinstance(period, str) else period
    rows = {r.key: r._asdict() for r in raw_counts(session, period, group_by, within)}
    whistles = whistle_counts(session, period, within) if group_by in ("unit", "department") else {}
    work = grid_work(session, period, group_by, within)
    rated = resident_ratings(session, period, group_by, within)
    empty = dict.fromkeys(COUNTS + RECORD_COUNTS, 0)
    # Called to whistles, patrolled or rated, but lead on nothing this period: listed all the same.
    for unit_id in (whistles.keys() | work.keys() | rated.keys()) - rows.keys():
        rows[unit_id] = {"key": unit_id, **empty}
    names = {}
    if group_by != "category":
        ids = [k for k in rows if k]
        names = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    out = []
    for key, r in rows.items():
        calls, timely = whistles.get(key, (0, 0))
        responses, rating = rated.get(key, (0, None))
        rates = {"response": _rate(r["responded"], r["response_decided"]),
                 "resolution": _rate(r["solved"], r["evaluated"]),
                 "satisfaction": _rate(r["satisfied"], r["evaluated"]),
                 "completion": _rate(r["completed"], r["dispatched"]),
                 "on_time_completion": _rate(r["on_time"], r["dispatched"]),
                 "whistle_report": _rate(timely, calls),
                 "resident_rating": rating}
        unit = names.get(key)
        out.append({
            "key": key, "code": unit.code if unit else (key if group_by == "category" else None),
            "name": unit.name if unit else (key or "（未定位）"),
            "counts": {**{k: r[k] for k in COUNTS}, "whistle_calls": calls, "whistle_on_time": timely,
                       "rating_responses": responses},
            # Beside the rates, never in the composite: praise received, suggestions answered and
            # adopted (采纳率 of those answered).
            "record": {**{k: r[k] for k in RECORD_COUNTS},
                       "adoption_rate": _rate(r["suggestions_adopted"], r["suggestions_answered"])},
            # Beside the record for grids and the areas above them (null for a department): activity, not
            # quality, so never in the composite.
            "grid_work": (work.get(key, dict.fromkeys(GRID_WORK, 0))
                          if unit is not None and unit.level in ("grid", "community", "street") else None),
            "rates": rates, "composite": composite(rates, weights),
        })
    out.sort(key=lambda x: (x["composite"] is None, -(x["composite"] or 0), x["code"] or ""))
    return out


def ranking(session: Session, period: str, level: str, weights: dict | None = None,
            within: str | tuple[str, ...] | None = None) -> list[dict]:
    """The streets or departments of the period: those with at least `min_scored_orders` scored
    orders ranked by composite (1, 2, …), the others listed after them unranked (`rank` null)."""
    group = "street" if level == "street" else "department"
    minimum = config.get().scoring.min_scored_orders
    rows = [r for r in scores(session, period, group, weights, within) if r["key"]]
    # A unit with too little work (or only whistle reports) is not ranked: its composite says little.
    ranked = [r for r in rows if r["counts"]["dispatched"] >= minimum and r["composite"] is not None]
    unranked = [r for r in rows if not (r["counts"]["dispatched"] >= minimum and r["composite"] is not None)]
    for i, r in enumerate(ranked, start=1):
        r["rank"], r["ranked"] = i, True
    for r in unranked:
        r["rank"], r["ranked"] = None, False
    return ranked + unranked
