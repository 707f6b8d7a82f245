"""Two selfgov workers counting ratings at once (PostgreSQL, FOR UPDATE SKIP LOCKED): a group another worker is
counting is left to it, whole, and a period is not told final while its ratings are still being counted."""

from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select

from services.selfgov import clocks, ratings
from services.selfgov.models import Rating, WaitingRating
from services.selfgov.service import SPEC
from shared import periods
from shared.config import get_settings
from shared.db import utcnow
from shared.migrate import upgrade

from .conftest import COMMUNITY, events

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_rt(tmp_path, pg_database):
    upgrade("selfgov", pg_database)
    rt = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path), pg_database)
    SPEC.seed(rt)
    yield rt
    rt.dispose()


def waiting(rt, period: str, n: int, start: int = 0) -> None:
    with rt.uow() as session:
        for i in range(start, start + n):
            session.add(WaitingRating(id=f"w-{i:03d}", community_code=COMMUNITY, period=period, grid_code=None,
                                      answers={"cadres_diligent": 3, "affairs_open": 3, "matters_heard": 3}))


def held_by_another_worker(pg_database: str):
    """Another worker's open transaction holding every rating waiting now."""
    conn = psycopg.connect(pg_database.replace("postgresql+psycopg://", "postgresql://"))
    conn.execute("SELECT id FROM ratings_waiting FOR UPDATE").fetchall()
    return conn


def test_a_group_another_worker_is_counting_is_left_to_it_not_counted_in_pieces(pg_rt, pg_database):
    period = ratings.period_of(ratings.local_day(utcnow()))
    after = periods.parse(period).end + timedelta(minutes=1)
    waiting(pg_rt, period, 3)
    other = held_by_another_worker(pg_database)
    try:
        waiting(pg_rt, period, 1, start=3)  # committed while the other worker holds the first three
        with pg_rt.uow() as session:
            assert ratings.release(session, after) == 0  # not the newcomer alone, a batch of one
    finally:
        other.rollback()
        other.close()
    with pg_rt.uow() as session:
        assert ratings.release(session, after) == 4
        assert len(list(session.scalars(select(Rating.id)))) == 4


def test_a_period_is_not_told_final_while_another_worker_is_counting_its_ratings(pg_rt, pg_database):
    period = ratings.period_of(ratings.local_day(utcnow()))
    after = periods.parse(period).end + timedelta(minutes=1)
    waiting(pg_rt, period, 5)
    assert clocks.publish(pg_rt) == 1  # the five counted and told
    waiting(pg_rt, period, 3, start=5)
    other = held_by_another_worker(pg_database)
    try:
        assert clocks.publish(pg_rt, after) == 0  # the figures have not changed: nothing told, above all not final
    finally:
        other.rollback()
        other.close()
    assert clocks.publish(pg_rt, after + timedelta(hours=2)) == 1
    told = [e["data"] for e in events(pg_rt, "selfgov.ratings.scored")]
    assert [t["final"] for t in told] == [False, True]
    assert {u["unit_code"]: u["responses"] for u in told[-1]["units"]}[COMMUNITY] == 8
