"""A case routing dispatches no order for (answered on the spot, 自办自结, the residents' consultation) is
still located: intake is told its area, so the area's staff see it and its reports count it."""

from .conftest import GRID1, GRID1_CODE


def test_an_undispatched_case_is_located_and_nothing_is_dispatched(h):
    for route, closed_as in (("direct", "self_resolved"), ("consultation", None), ("direct", "answered")):
        h.submit(route=route, closed_as=closed_as)
        [(env, located)] = h.events()
        assert env.type == "routing.case.located" and located.area_path.endswith(f"/{GRID1_CODE}/")
    h.submit(route="direct", closed_as="answered", point=None)  # no point: nothing to say
    assert h.events() == []


def test_a_dispatched_case_says_its_area_with_its_dispatch_not_twice(h):
    h.submit(point=GRID1)
    assert [env.type for env, _ in h.events()] == ["routing.case.dispatched"]
