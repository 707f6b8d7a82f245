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
    with rt.unit_of_work() as uow:
        # settled on the spot; dispatched; a question answered on the spot (a finding, not 自办自结)
        for i, (route, closed_as) in enumerate((("direct", "self_resolved"), ("dispatch", None),
                                                ("direct", "answered"))):
            handlers.note_report(uow.session, uow.emit, CaseSubmitted(
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


def filed_on_patrol(rt, case_id: str, reporter: str = WORKER) -> None:
    with rt.unit_of_work() as uow:
        handlers.note_report(uow.session, uow.emit, CaseSubmitted(
            case_id=case_id, case_no="2026-11-000009", category="env.garbage", channel="grid_patrol",
            route="dispatch", lat=HERE[0], lon=HERE[1], reporter_id=reporter, submitted_at=DAY + timedelta(hours=9)))


def test_a_finding_that_is_not_a_case_id_or_named_twice_is_refused_and_nothing_is_linked(client, rt):
    h = auth(rt, WORKER)
    p = client.post(f"{P}/patrols", json={"client_at": at(9)}, headers=h).json()
    case_id = "5a1f3c2e-0000-4000-8000-00000000000a"
    for bad in ("-" * 36, "5a1f3c2e0000-4000-8000-00000000000a-", "g" * 8 + case_id[8:]):
        r = client.post(f"{P}/patrols/{p['id']}/findings", json={"case_ids": [bad]}, headers=h)
        assert r.status_code == 422 and r.json()["error"]["field"] == "case_ids.0", (bad, r.text)
    r = client.post(f"{P}/patrols/{p['id']}/findings", json={"case_ids": [case_id, case_id.upper()]}, headers=h)
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("finding.duplicate", "case_ids.1")
    assert client.get(f"{P}/patrols/{p['id']}", headers=h).json()["finding_ids"] == []


def test_only_findings_intake_confirms_as_the_workers_patrol_reports_are_counted(client, rt):
    mine, unknown, theirs = (f"5a1f3c2e-0000-4000-8000-00000000010{i}" for i in range(3))
    filed_on_patrol(rt, mine)
    h = auth(rt, WORKER)
    p = client.post(f"{P}/patrols", json={"client_at": at(9)}, headers=h).json()
    # `unknown` names no case intake told us of (a resident's case, a made-up id); `theirs` is linked before
    # intake's event says another worker filed it.
    r = client.post(f"{P}/patrols/{p['id']}/findings", json={"case_ids": [mine, unknown, theirs]}, headers=h)
    assert r.status_code == 200 and r.json()["finding_count"] == 1, r.text
    filed_on_patrol(rt, theirs, reporter="u-grid-worker-001002")
    done = client.post(f"{P}/patrols/{p['id']}/finish", json={"client_at": at(10)}, headers=h).json()
    assert done["finding_ids"] == [mine, unknown] and done["finding_count"] == 1  # the other's case is unlinked
    assert events(rt, "grid.patrol.finished")[0]["data"]["finding_count"] == 1
    assert client.get(f"{P}/grids/{GRID}/days/2026-11-02", headers=h).json()["findings"] == 1
    stats = client.get(f"{P}/statistics", params={"month": "2026-11"}, headers=h).json()
    assert next(s for s in stats if s["grid_code"] == GRID)["findings"] == 1


def test_a_finding_linked_or_confirmed_after_the_finish_is_passed_on_to_routing(client, rt):
    late, later = "5a1f3c2e-0000-4000-8000-000000000201", "5a1f3c2e-0000-4000-8000-000000000202"
    filed_on_patrol(rt, late)
    h = auth(rt, WORKER)
    p = patrol(client, rt, at(9), at(10))
    # The phone synced late: the link comes after the finish, and intake's event for `later` after the link.
    r = client.post(f"{P}/patrols/{p['id']}/findings", json={"case_ids": [late, later]}, headers=h)
    assert r.status_code == 200 and r.json()["finding_count"] == 1
    filed_on_patrol(rt, later)
    recounts = [e["data"] for e in events(rt, "grid.patrol.recounted")]
    assert [(e["patrol_id"], e["finding_count"]) for e in recounts] == [(p["id"], 1), (p["id"], 2)]
    assert recounts[-1]["distance_m"] == p["distance_m"] and recounts[-1]["counts"] is True
    day = client.get(f"{P}/grids/{GRID}/days/2026-11-02", headers=h).json()
    assert day["findings"] == recounts[-1]["finding_count"] == 2
    r = client.post(f"{P}/patrols/{p['id']}/findings", json={"case_ids": [late]}, headers=h)  # again: no change
    assert r.status_code == 200 and len(events(rt, "grid.patrol.recounted")) == 2
