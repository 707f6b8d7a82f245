"""居民直评: once per resident per period (the second refused), only by residents on the roster, anonymous in
what is kept (counted in shuffled batches, apart from the ballots), and scored 0–100 per community and grid by
the configured weights."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, inspect, select, text

from services.selfgov import clocks, ratings
from services.selfgov.models import Rating, RatingBallot, WaitingRating
from shared import periods
from shared.db import utcnow
from shared.ids import unit_id

from .conftest import COMMUNITY, auth, staff
from .helpers import HOUSEHOLD_2, REP_3, REP_4, RESIDENT, P

GRID = "510107001001001"
ALL = {"cadres_diligent": 5, "affairs_open": 4, "matters_heard": 3, "grid_service": 5}


def _rate(client, rt, who, answers=ALL, grid=GRID):
    return client.post(f"{P}/ratings", headers=auth(rt, who),
                       json={"community_code": COMMUNITY, "grid_code": grid, "answers": answers})


def counted(rt, now=None) -> int:
    with rt.uow() as session:
        return ratings.release(session, now or utcnow())


@pytest.mark.usefixtures("counted_one_by_one")
def test_a_second_rating_by_the_same_resident_in_a_period_is_refused(client, rt):
    first = _rate(client, rt, RESIDENT)
    assert first.status_code == 201 and first.json()["period"] == ratings.period_of(ratings.local_day(utcnow()))
    second = _rate(client, rt, RESIDENT, {**ALL, "cadres_diligent": 1})
    assert second.status_code == 409 and second.json()["error"]["code"] == "rating.already_given"
    assert counted(rt) == 1
    with rt.uow() as session:
        assert session.scalar(select(Rating.answers)) == ALL  # the first answer stands
        assert len(list(session.scalars(select(Rating)))) == 1


def test_a_rating_keeps_no_trace_of_who_gave_it(client, rt):
    _rate(client, rt, RESIDENT)
    with rt.uow() as session:
        columns = {c.key for c in inspect(Rating).columns} | {c.key for c in inspect(RatingBallot).columns}
        ballot = session.scalar(select(RatingBallot))
    assert not columns & {"user_id", "member_id", "phone_index", "at", "created_at"}
    assert RESIDENT not in ballot.voter_key and len(ballot.voter_key) == 64


def test_only_residents_on_the_roster_rate_and_every_question_is_answered(client, rt):
    assert _rate(client, rt, "u-outsider").status_code == 403
    r = _rate(client, rt, RESIDENT, {"cadres_diligent": 5})
    assert r.status_code == 422 and r.json()["error"]["code"] == "rating.bad_answers"
    r = _rate(client, rt, RESIDENT, {**ALL, "grid_service": 6})
    assert r.json()["error"]["code"] == "rating.bad_answers"
    assert _rate(client, rt, RESIDENT, grid="510107001002001").json()["error"]["code"] == "rating.unknown_grid"
    # About her grid without saying which: the refusal names the missing grid, not the answers.
    r = _rate(client, rt, RESIDENT, grid=None)
    assert r.status_code == 422 and r.json()["error"]["field"] == "grid_code"
    no_grid = {k: v for k, v in ALL.items() if k != "grid_service"}
    assert _rate(client, rt, RESIDENT, no_grid, grid=None).status_code == 201


@pytest.mark.usefixtures("counted_one_by_one")
def test_scores_weigh_the_mean_answers_per_unit(client, rt):
    _rate(client, rt, RESIDENT)  # 5, 4, 3 | grid 5
    _rate(client, rt, HOUSEHOLD_2, {"cadres_diligent": 3, "affairs_open": 2, "matters_heard": 1, "grid_service": 2})
    assert counted(rt) == 2
    period = ratings.period_of(ratings.local_day(utcnow()))
    rows = {r["unit_code"]: r for r in client.get(f"{P}/ratings/scores", headers=staff(rt),
                                                  params={"period": period}).json()}
    community, grid = rows[COMMUNITY], rows[GRID]
    # means 4, 3, 2 → (3/4, 2/4, 1/4)×100 = 75, 50, 25; weights 30, 20, 20 → (2250 + 1000 + 500) / 70
    assert community["by_question"] == {"cadres_diligent": 4.0, "affairs_open": 3.0, "matters_heard": 2.0}
    assert community["score"] == round(3750 / 70, 2) and community["responses"] == 2
    assert grid["score"] == 62.5 and grid["unit_id"] == unit_id(GRID)  # mean 3.5 → 2.5/4
    year = client.get(f"{P}/ratings/scores", headers=staff(rt), params={"period": period[:4]}).json()
    assert {r["unit_code"] for r in year} == {COMMUNITY, GRID}  # a year holds its quarters
    assert client.get(f"{P}/ratings/scores", headers=staff(rt, "u-community-staff-002"),
                      params={"period": period}).json() == []
    assert client.get(f"{P}/ratings/scores", headers=auth(rt, "u-operator-1", "operator"),
                      params={"period": period}).status_code == 403


def test_ratings_are_counted_only_in_batches_of_a_community_apart_from_the_transaction_of_their_ballots(client,
                                                                                                          rt):
    """A rating written beside its ballot shared its transaction, its place in the insertion order and its
    time with it: whoever held the database and the index key could follow a resident's ballot to her answers.
    Answers now wait until five of the community's (release_batch) can be counted together, in random order,
    with new ids and the day of counting, by the background job."""
    first_four = (RESIDENT, HOUSEHOLD_2, REP_3, REP_4)
    for i, who in enumerate(first_four):
        assert _rate(client, rt, who, {**ALL, "cadres_diligent": i + 1}).status_code == 201
    clocks.publish(rt)
    period = ratings.period_of(ratings.local_day(utcnow()))
    with rt.uow() as session:
        waiting = set(session.scalars(select(WaitingRating.id)))
        assert len(waiting) == 4 and session.scalar(select(Rating.id)) is None  # four could be told apart
    scores = client.get(f"{P}/ratings/scores", headers=staff(rt), params={"period": period}).json()
    assert scores == []
    assert _rate(client, rt, "u-resident-5", {**ALL, "cadres_diligent": 5}).status_code == 201
    clocks.publish(rt)
    with rt.uow() as session:
        kept = list(session.scalars(select(Rating)))
        assert session.scalar(select(WaitingRating.id)) is None
    assert len(kept) == 5 and not {r.id for r in kept} & waiting  # no id carried over
    assert {r.submitted_on for r in kept} == {ratings.local_day(utcnow())}  # the day of counting, for all
    assert sorted(r.answers["cadres_diligent"] for r in kept) == [1, 2, 3, 4, 5]
    row = {r["unit_code"]: r for r in client.get(f"{P}/ratings/scores", headers=staff(rt),
                                                 params={"period": period}).json()}[COMMUNITY]
    assert row["responses"] == 5


def test_a_batch_is_counted_in_an_order_unrelated_to_the_order_given(rt):
    period = ratings.period_of(ratings.local_day(utcnow()))
    given = [f"w-{i:03d}" for i in range(30)]
    with rt.uow() as session:
        for i, wid in enumerate(given):
            session.add(WaitingRating(id=wid, community_code=COMMUNITY, period=period, grid_code=None,
                                      answers={"n": i}))
    assert counted(rt) == 30
    with rt.uow() as session:
        # As stored (insertion order: SQLite's rowid), which is what a reader of the file sees.
        stored = [a["n"] for a in session.scalars(select(Rating.answers).order_by(text("rowid")))]
    assert sorted(stored) == list(range(30)) and stored != list(range(30))  # 1 in 30! to fail by chance


def test_whatever_waits_is_counted_once_the_period_is_over(client, rt):
    assert _rate(client, rt, RESIDENT).status_code == 201
    assert counted(rt) == 0  # one alone: it waits for four more
    period = ratings.period_of(ratings.local_day(utcnow()))
    assert counted(rt, periods.parse(period).end + timedelta(minutes=1)) == 1


def test_ratings_given_before_the_batches_are_rewritten_as_one_shuffled_batch_by_the_migration(tmp_path):
    """Ratings written beside their ballots before the batches existed keep that link unless rewritten."""
    from alembic import command

    from shared.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    cfg = alembic_config("selfgov", url)
    command.upgrade(cfg, "selfgov_0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        for i in range(30):
            conn.execute(text("INSERT INTO ratings (id, community_code, period, grid_code, answers, submitted_on) "
                              "VALUES (:id, :c, '2026-Q4', NULL, :a, '2026-11-02')"),
                         {"id": f"old-{i:03d}", "c": COMMUNITY, "a": f'{{"n": {i}}}'})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, answers FROM ratings ORDER BY rowid")).all()
    engine.dispose()
    order = [json.loads(a)["n"] for _, a in rows]
    assert sorted(order) == list(range(30)) and order != list(range(30))
    assert not any(r.id.startswith("old-") for r in rows)


def test_a_score_in_a_string_is_refused_not_read_as_a_number(client, rt):
    r = _rate(client, rt, RESIDENT, answers={**ALL, "cadres_diligent": "5"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation.bad_type", r.text
    assert r.json()["error"]["field"] == "answers.cadres_diligent"
    assert _rate(client, rt, RESIDENT).status_code == 201  # refused, so nothing was taken for this period
