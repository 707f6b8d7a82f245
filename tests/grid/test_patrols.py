"""Patrols: a GCJ-02 track measured in WGS-84, the daily rule checked once with its warning, 自办自结 from intake."""

from datetime import UTC, datetime, timedelta

from services.grid import clocks, handlers
from shared import geo
from shared.config import local_zone
from shared.events.intake import CaseSubmitted

from .conftest import GRID, GRID_2, HERE, WORKER, P, auth, events

DAY = datetime(2026, 11, 2, tzinfo=local_zone())


def at(hour: int, minute: int = 0) -> str:
    return (DAY + timedelta(hours=hour, minutes=minute)).isoformat()


def patrol(client, rt, start: str, end: str, points=(), worker=WORKER) -> dict:
    h = auth(rt, worker)
    r = client.post(f"{P}/patrols", json={"client_at": start, "coord_system": "gcj02", "points": list(points)},
                    headers=h)
    assert r.status_code == 201, r.text
    r = client.post(f"{P}/patrols/{r.json()['id']}/finish", json={"client_at": end}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_gcj02_track_is_converted_and_its_length_measured(client, rt):
    gcj = [geo.wgs84_to_gcj02(HERE[0] + i * 0.001, HERE[1]) for i in range(3)]
    points = [{"lat": lat, "lon": lon, "at": at(8, i * 10)} for i, (lat, lon) in enumerate(gcj)]
    done = patrol(client, rt, at(8), at(8, 40), points)
    wgs = [geo.gcj02_to_wgs84(lat, lon) for lat, lon in gcj]
    expected = sum(geo.distance_m(*a, *b) for a, b in zip(wgs, wgs[1:], strict=False))
    assert abs(done["distance_m"] - expected) < 0.2 and 200 < done["distance_m"] < 250  # two 111 m steps
    assert done["point_count"] == 3 and done["counts"] is True and done["day"] == "2026-11-02"
    track = client.get(f"{P}/patrols/{done['id']}", headers=auth(rt, WORKER)).json()["points"]
    assert abs(track[0]["lat"] - HERE[0]) < 1e-6  # stored in WGS-84, not as the phone sent it
    assert events(rt, "grid.patrol.finished")[0]["data"]["distance_m"] == done["distance_m"]


def test_a_patrol_shorter_than_the_rule_does_not_count(client, rt):
    assert patrol(client, rt, at(9), at(9, 10))["counts"] is False


def test_a_day_short_of_the_rule_is_warned_once_and_a_day_that_met_it_is_not(client, rt):
    patrol(client, rt, at(8), at(9))  # grid 1: one patrol of two
    patrol(client, rt, at(8), at(9), worker="u-grid-worker-001002")  # grid 2: both
    patrol(client, rt, at(14), at(15), worker="u-grid-worker-001002")
    before_check = datetime(2026, 11, 2, 19, 59, tzinfo=local_zone())
    clocks.scan(rt, now=before_check.astimezone(UTC))  # the day before is checked (nobody patrolled it)
    assert {e["data"]["day"] for e in events(rt, "grid.patrol.missed")} == {"2026-11-01"}  # this one is not over
    before = len(events(rt, "grid.patrol.missed"))
    after = datetime(2026, 11, 2, 20, 1, tzinfo=local_zone()).astimezone(UTC)
    warned = clocks.scan(rt, now=after)
    missed = [e["data"] for e in events(rt, "grid.patrol.missed") if e["data"]["day"] == "2026-11-02"]
    assert {m["grid_code"] for m in missed} >= {GRID} and GRID_2 not in {m["grid_code"] for m in missed}
    mine = next(m for m in missed if m["grid_code"] == GRID)
    assert mine["required"] == 2 and mine["done"] == 1 and mine["worker_ids"] == [WORKER]
    assert mine["community_code"] == "510107001001000"
    assert warned == len(missed) == len(events(rt, "grid.patrol.missed")) - before
    assert clocks.scan(rt, now=after + timedelta(minutes=5)) == 0  # once
    day = client.get(f"{P}/grids/{GRID}/days/2026-11-02", headers=auth(rt, "u-community-staff-001")).json()
    assert (day["required"], day["done"], day["met"], day["status"]) == (2, 1, False, "missed")
    day2 = client.get(f"{P}/grids/{GRID_2}/days/2026-11-02", headers=auth(rt, "u-community-staff-001")).json()
    assert (day2["done"], day2["status"]) == (2, "met")


def test_self_resolved_cases_are_counted_from_intakes_events_and_findings_attach(client, rt):
    case_id = "5a1f3c2e-0000-4000-8000-000000000001"
    with rt.uow() as session:
        # settled on the spot; dispatched; a question answered on the spot (a finding, not 自办自结)
        for i, (route, closed_as) in enumerate((("direct", "self_resolved"), ("dispatch", None),
                                                ("direct", "answered"))):
            handlers.note_report(session, CaseSubmitted(
                case_id=case_id[:-1] + str(i + 1), case_no=f"2026-11-00000{i + 1}", category="env.garbage",
                channel="grid_patrol", route=route, closed_as=closed_as, lat=HERE[0], lon=HERE[1],
                reporter_id=WORKER, submitted_at=DAY + timedelta(hours=10)))
    h = auth(rt, WORKER)
    p = patrol(client, rt, at(9, 30), at(10, 30))
    # A phone that synced late links its findings after the patrol ended.
    r = client.post(f"{P}/patrols/{p['id']}/findings", json={"case_ids": [case_id]}, headers=h)
    assert r.status_code == 200 and r.json()["finding_ids"] == [case_id]
    second = client.post(f"{P}/patrols", json={"client_at": at(11)}, headers=h).json()
    r = client.post(f"{P}/patrols/{second['id']}/findings", json={"case_ids": [case_id]}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "finding.taken"
    other = client.post(f"{P}/patrols", json={"client_at": at(11)}, headers=auth(rt, "u-grid-worker-001002")).json()
    r = client.post(f"{P}/patrols/{other['id']}/findings", json={"case_ids": [case_id[:-1] + "2"]},
                    headers=auth(rt, "u-grid-worker-001002"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "finding.not_yours"
    day = client.get(f"{P}/grids/{GRID}/days/2026-11-02", headers=h).json()
    assert day["self_resolved"] == 1 and day["findings"] == 1


def test_a_day_no_one_could_mean_is_a_422_not_a_500(client, rt):
    h = auth(rt, "u-community-staff-001")
    for day in ("0001-01-01", "9999-12-31"):
        r = client.get(f"{P}/grids/{GRID}/days/{day}", headers=h)
        assert r.status_code == 422 and r.json()["error"]["field"] == "day"
        assert client.get(f"{P}/patrols", params={"day": day}, headers=h).status_code == 422
