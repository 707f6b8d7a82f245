"""居民直评 figures told to routing (selfgov.ratings.scored): one aggregate event per rating period, published by
the background job when the figures changed (checked at most hourly) and once more, final, when the period is
over; never an event per rating."""

from datetime import timedelta

import pytest

from services.selfgov import clocks, ratings
from shared import periods
from shared.db import utcnow
from shared.ids import unit_id

from .conftest import COMMUNITY, events
from .helpers import HOUSEHOLD_2, RESIDENT
from .test_ratings import GRID, _rate

TYPE = "selfgov.ratings.scored"
pytestmark = pytest.mark.usefixtures("counted_one_by_one")


def test_ratings_are_published_as_one_aggregate_of_the_period_not_one_event_each(client, rt):
    _rate(client, rt, RESIDENT)  # 5, 4, 3 | grid 5
    _rate(client, rt, HOUSEHOLD_2, {"cadres_diligent": 3, "affairs_open": 2, "matters_heard": 1, "grid_service": 2})
    assert events(rt, TYPE) == []  # a rating alone tells routing nothing
    assert clocks.publish(rt) == 1
    [event] = events(rt, TYPE)
    period = ratings.period_of(ratings.local_day(utcnow()))
    body = event["data"]
    assert body["period"] == period and body["final"] is False
    units = {u["unit_code"]: u for u in body["units"]}
    assert units[COMMUNITY] == {"unit_id": unit_id(COMMUNITY), "unit_code": COMMUNITY, "level": "community",
                                "responses": 2, "score": round((30 * 75 + 20 * 50 + 20 * 25) / 70, 2)}
    # (means 4, 3, 2 of 5 are 75, 50, 25 out of 100, weighted 30/20/20)
    assert units[GRID]["responses"] == 2 and units[GRID]["score"] == 62.5  # mean 3.5 of 5
    assert set(units[GRID]) == {"unit_id", "unit_code", "level", "responses", "score"}


def test_figures_are_told_again_only_when_changed_and_at_most_hourly(client, rt):
    _rate(client, rt, RESIDENT)
    now = utcnow()
    assert clocks.publish(rt, now) == 1
    assert clocks.publish(rt, now + timedelta(minutes=5)) == 0  # not due yet
    assert clocks.publish(rt, now + timedelta(hours=1, minutes=1)) == 0  # due, unchanged
    _rate(client, rt, HOUSEHOLD_2)
    assert clocks.publish(rt, now + timedelta(hours=1, minutes=30)) == 0  # changed, but checked within the hour
    assert clocks.publish(rt, now + timedelta(hours=2, minutes=2)) == 1
    assert [e["data"]["units"][0]["responses"] for e in events(rt, TYPE)] == [1, 2]


def test_a_closed_period_is_told_once_more_as_final_and_then_left_alone(client, rt):
    _rate(client, rt, RESIDENT)
    period = ratings.period_of(ratings.local_day(utcnow()))
    assert clocks.publish(rt) == 1
    after = periods.parse(period).end + timedelta(hours=2)
    assert clocks.publish(rt, after) == 1
    assert clocks.publish(rt, after + timedelta(days=1)) == 0
    told = [e["data"] for e in events(rt, TYPE)]
    assert [t["final"] for t in told] == [False, True] and told[0]["units"] == told[1]["units"]
