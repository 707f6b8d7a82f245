"""居民直评: once per resident per period (the second refused), only by residents on the roster, anonymous in
what is kept, and scored 0–100 per community and grid by the configured weights."""

from sqlalchemy import inspect, select

from services.selfgov import ratings
from services.selfgov.models import Rating, RatingBallot
from shared.db import utcnow
from shared.ids import unit_id

from .conftest import COMMUNITY, auth, staff
from .helpers import HOUSEHOLD_2, RESIDENT, P

GRID = "510107001001001"
ALL = {"cadres_diligent": 5, "affairs_open": 4, "matters_heard": 3, "grid_service": 5}


def _rate(client, rt, who, answers=ALL, grid=GRID):
    return client.post(f"{P}/ratings", headers=auth(rt, who),
                       json={"community_code": COMMUNITY, "grid_code": grid, "answers": answers})


def test_a_second_rating_by_the_same_resident_in_a_period_is_refused(client, rt):
    first = _rate(client, rt, RESIDENT)
    assert first.status_code == 201 and first.json()["period"] == ratings.period_of(ratings.local_day(utcnow()))
    second = _rate(client, rt, RESIDENT, {**ALL, "cadres_diligent": 1})
    assert second.status_code == 409 and second.json()["error"]["code"] == "rating.already_given"
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


def test_scores_weigh_the_mean_answers_per_unit(client, rt):
    _rate(client, rt, RESIDENT)  # 5, 4, 3 | grid 5
    _rate(client, rt, HOUSEHOLD_2, {"cadres_diligent": 3, "affairs_open": 2, "matters_heard": 1, "grid_service": 2})
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
