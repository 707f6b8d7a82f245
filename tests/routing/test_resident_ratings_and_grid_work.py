"""居民直评 in the scores (issue 16) and the grid's work beside them (issue 17): selfgov's rating figures and the
grid's finished patrols and 自办自结 cases, consumed as events, read back through GET /routing/v1/scores."""

import uuid
from datetime import UTC, datetime

import pytest

from shared.auth import issue_token
from shared.events.grid import PatrolFinished, PatrolRecounted
from shared.events.intake import CaseSubmitted
from shared.events.selfgov import RatingsScored, UnitRatingScore
from shared.ids import unit_id

from .conftest import COMMUNITY1, GRID1, GRID1_CODE, STREET
from .test_scores_ledger import GRID2, by_code, order

T = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
COMMUNITY2, OTHER_GRID = "510107001002000", "510107001002001"


def rated(period, figures, at=T, final=False):
    """A selfgov.ratings.scored event: figures is {code: (level, responses, score)}."""
    return RatingsScored(period=period, final=final, at=at, units=[
        UnitRatingScore(unit_id=unit_id(code), unit_code=code, level=level, responses=n, score=score)
        for code, (level, n, score) in figures.items()])


def scores(h, period, group_by="unit", who="supervisor"):
    r = h.client.get("/routing/v1/scores", params={"period": period, "group_by": group_by}, headers=h.headers(who))
    assert r.status_code == 200, r.text
    return by_code(r.json()["rows"])


@pytest.fixture
def worked(h):
    with h.rt.uow() as s:
        s.add_all([order(GRID1_CODE, evaluated=True, solved=True, satisfaction="满意"),  # every rate 100
                   order(GRID2, evaluated=True, solved=True, satisfaction="不满意")])  # 65 as before
    return h


def test_a_quarters_rating_enters_the_composite_of_each_of_its_months_with_its_weight(worked):
    before = scores(worked, "2026-10")[GRID1_CODE]
    assert before["rates"]["resident_rating"] is None and before["composite"] == 100.0
    worked.feed(rated("2026-Q4", {GRID1_CODE: ("grid", 4, 50.0), COMMUNITY1: ("community", 6, 80.0)}))
    for month in ("2026-10", "2026-11", "2026-12"):
        g1 = scores(worked, month)[GRID1_CODE]
        assert g1["rates"]["resident_rating"] == 50.0 and g1["counts"]["rating_responses"] == 4
    # October: the orders' rates weighted 30+35+35, the rating 10; November: the rating alone.
    assert scores(worked, "2026-10")[GRID1_CODE]["composite"] == round((100 * 100 + 10 * 50) / 110, 2)
    assert scores(worked, "2026-11")[GRID1_CODE]["composite"] == 50.0
    # A unit with no rating keeps the composite it had (the null rate drops its weight).
    assert scores(worked, "2026-10")[GRID2]["composite"] == 65.0
    # Rated but lead on no order: listed with the rating alone.
    community = scores(worked, "2026-10")[COMMUNITY1]
    assert community["counts"]["dispatched"] == 0 and community["composite"] == 80.0
    # Outside the quarter the rating counts for nothing.
    assert scores(worked, "2026-09").get(GRID1_CODE) is None


def test_a_longer_period_takes_the_responses_weighted_mean_and_a_street_its_communities(worked):
    worked.feed(rated("2026-Q3", {COMMUNITY1: ("community", 2, 40.0)}))
    worked.feed(rated("2026-Q4", {COMMUNITY1: ("community", 6, 80.0), GRID1_CODE: ("grid", 6, 10.0)}))
    year = scores(worked, "2026")
    assert year[COMMUNITY1]["rates"]["resident_rating"] == 70.0  # (2×40 + 6×80) / 8
    assert year[COMMUNITY1]["counts"]["rating_responses"] == 8
    # The street's rating is its communities' (a grid's answers were given by the same residents).
    street = scores(worked, "2026", group_by="street")[STREET]
    assert street["rates"]["resident_rating"] == 70.0 and street["counts"]["rating_responses"] == 8
    # Departments and categories are not rated by residents.
    assert all(r["rates"]["resident_rating"] is None for r in scores(worked, "2026", "category").values())


def test_a_newer_figure_replaces_the_periods_whole_and_a_late_older_one_is_ignored(worked):
    worked.feed(rated("2026-Q4", {GRID1_CODE: ("grid", 1, 0.0), COMMUNITY1: ("community", 1, 0.0)}))
    worked.feed(rated("2026-Q4", {GRID1_CODE: ("grid", 3, 75.0)}, at=T.replace(hour=3), final=True))
    worked.feed(rated("2026-Q4", {GRID1_CODE: ("grid", 2, 25.0)}, at=T.replace(hour=1)))  # late, older
    rows = scores(worked, "2026-11")
    assert rows[GRID1_CODE]["rates"]["resident_rating"] == 75.0
    assert rows[GRID1_CODE]["counts"]["rating_responses"] == 3
    assert COMMUNITY1 not in rows  # no longer in the period's figures, no order: not listed


def test_a_rating_below_the_minimum_of_responses_counts_no_weight(worked):
    worked.feed(rated("2026-Q4", {GRID1_CODE: ("grid", 1, None)}))
    g1 = scores(worked, "2026-10")[GRID1_CODE]
    assert g1["rates"]["resident_rating"] is None and g1["composite"] == 100.0
    assert g1["counts"]["rating_responses"] == 1


def patrol(grid_code, day, metres, findings, counts=True, worker="u-grid-worker-001001"):
    start = datetime.fromisoformat(f"{day}T01:00:00+00:00")
    return PatrolFinished(patrol_id=str(uuid.uuid4()), grid_code=grid_code, grid_id=unit_id(grid_code),
                          worker_id=worker, day=day, started_at=start, finished_at=start.replace(hour=2),
                          distance_m=metres, finding_count=findings, counts=counts)


def settled_on_the_spot(point=GRID1, at=T, channel="grid_patrol", closed_as="self_resolved"):
    return CaseSubmitted(case_id=str(uuid.uuid4()), case_no="2026-000777", category="env.garbage", channel=channel,
                         lon=point[0], lat=point[1], reporter_id="u-grid-worker-001001", submitted_at=at,
                         route="direct", closed_as=closed_as)


def test_patrols_and_self_resolved_cases_are_counted_per_grid_and_rolled_up_never_in_the_composite(worked):
    first = patrol(GRID1_CODE, "2026-10-03", 1500.0, 2)
    worked.feed(first)
    worked.feed(first)  # a redelivery counts once
    worked.feed(patrol(GRID1_CODE, "2026-10-03", 240.0, 0, counts=False))
    worked.feed(patrol(GRID2, "2026-10-04", 1000.0, 1, worker="u-grid-worker-001002"))
    worked.feed(patrol(GRID1_CODE, "2026-11-01", 900.0, 5))  # next month
    worked.feed(settled_on_the_spot())
    worked.feed(settled_on_the_spot(closed_as="answered"))  # a question answered is a finding, not 自办自结
    worked.feed(settled_on_the_spot(at=datetime(2026, 10, 31, 17, 0, tzinfo=UTC)))  # 1 Nov in Beijing
    rows = scores(worked, "2026-10")
    assert rows[GRID1_CODE]["grid_work"] == {"patrols": 2, "patrols_counted": 1, "distance_km": 1.74,
                                             "findings": 2, "self_resolved": 1}
    assert rows[GRID2]["grid_work"] == {"patrols": 1, "patrols_counted": 1, "distance_km": 1.0, "findings": 1,
                                        "self_resolved": 0}
    assert rows[COMMUNITY1]["grid_work"] == {"patrols": 3, "patrols_counted": 2, "distance_km": 2.74,
                                             "findings": 3, "self_resolved": 1}
    assert rows[GRID1_CODE]["composite"] == 100.0 and rows[GRID2]["composite"] == 65.0  # unchanged
    street = scores(worked, "2026-10", group_by="street")[STREET]
    assert street["grid_work"]["patrols"] == 3 and street["grid_work"]["self_resolved"] == 1
    november = scores(worked, "2026-11")[GRID1_CODE]["grid_work"]
    assert november == {"patrols": 1, "patrols_counted": 1, "distance_km": 0.9, "findings": 5, "self_resolved": 1}
    # Nothing of it reaches a unit that is not an area.
    assert all(r["grid_work"] is None for r in scores(worked, "2026-10", "category").values())


def test_findings_a_grid_counts_after_a_patrol_finished_reach_its_grid_work_whatever_the_order(worked):
    first = patrol(GRID1_CODE, "2026-10-03", 1500.0, 1)
    recounted = lambda n: PatrolRecounted(**{**first.model_dump(), "finding_count": n})  # noqa: E731
    worked.feed(first)
    worked.feed(recounted(3))  # a phone that synced late linked two more
    assert scores(worked, "2026-10")[GRID1_CODE]["grid_work"]["findings"] == 3
    worked.feed(recounted(2))  # an older recount delivered late changes nothing
    worked.feed(first)
    assert scores(worked, "2026-10")[GRID1_CODE]["grid_work"]["findings"] == 3
    late = patrol(GRID1_CODE, "2026-10-04", 100.0, 0)
    worked.feed(PatrolRecounted(**{**late.model_dump(), "finding_count": 2}))  # the recount before the finish
    worked.feed(late)
    assert scores(worked, "2026-10")[GRID1_CODE]["grid_work"] == {
        "patrols": 2, "patrols_counted": 2, "distance_km": 1.6, "findings": 5, "self_resolved": 0}


def test_a_community_reads_its_own_grids_work_and_ratings_and_not_the_next_communitys(worked):
    worked.feed(patrol(GRID1_CODE, "2026-10-03", 1500.0, 2))
    worked.feed(patrol(OTHER_GRID, "2026-10-04", 1000.0, 1, worker="u-grid-worker-002001"))
    worked.feed(rated("2026-Q4", {GRID1_CODE: ("grid", 3, 90.0), OTHER_GRID: ("grid", 2, 20.0)}))
    staff = {"Authorization": "Bearer " + issue_token(worked.rt.settings, "u-community-staff-002", "community_staff",
                                                      COMMUNITY2)}
    r = worked.client.get("/routing/v1/scores", params={"period": "2026-10"}, headers=staff)
    rows = by_code(r.json()["rows"])
    assert set(rows) == {OTHER_GRID, COMMUNITY2}
    assert rows[OTHER_GRID]["grid_work"]["patrols"] == 1 and rows[OTHER_GRID]["rates"]["resident_rating"] == 20.0
    assert rows[COMMUNITY2]["grid_work"]["distance_km"] == 1.0
    street = worked.client.get("/routing/v1/scores", params={"period": "2026-10"}, headers=worked.headers("street"))
    assert by_code(street.json()["rows"])[STREET]["grid_work"]["patrols"] == 2  # both communities' grids
