"""Offline-safe writes: a queued batch is applied in client order, and replayed it is applied once."""

from datetime import timedelta

from sqlalchemy import func, select

from services.grid.models import Entry, Patrol, PatrolPoint, Visit
from shared.db import utcnow

from .conftest import HERE, WORKER, P, auth, events


def test_a_replayed_offline_batch_is_applied_once_and_in_order(client, rt):
    h = auth(rt, WORKER)
    person = client.get(f"{P}/register/entries", params={"kind": "person"}, headers=h).json()[0]
    t0 = utcnow() - timedelta(hours=2)
    stamp = lambda minutes: (t0 + timedelta(minutes=minutes)).isoformat()  # noqa: E731
    point = lambda minutes, d: {"lat": HERE[0] + d, "lon": HERE[1], "at": stamp(minutes)}  # noqa: E731
    ops = [
        {"key": "k1", "op": "patrol.start", "body": {"client_at": stamp(0), "coord_system": "wgs84",
                                                     "points": [point(0, 0)]}},
        {"key": "k2", "op": "patrol.points", "target_id": "@k1", "body": {"coord_system": "wgs84",
                                                                          "points": [point(10, 0.001)]}},
        {"key": "k3", "op": "visit.record", "body": {"person_id": person["id"], "note": "老人身体尚好，需要送米",
                                                     "help_needed": True, "client_at": stamp(20)}},
        {"key": "k4", "op": "register.update", "target_id": person["id"],
         "body": {"version": person["version"], "fields": {"note": "已走访"}, "client_at": stamp(25)}},
        {"key": "k5", "op": "register.update", "target_id": person["id"],  # queued from the same stale view
         "body": {"version": person["version"], "fields": {"note": "重复修改"}, "client_at": stamp(26)}},
        {"key": "k6", "op": "patrol.finish", "target_id": "@k1", "body": {"client_at": stamp(40), "coord_system":
                                                                          "wgs84", "points": [point(40, 0.002)]}},
    ]
    first = client.post(f"{P}/sync", json={"ops": ops}, headers=h)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 201, 200, 409, 200]
    assert results[4]["body"]["error"]["current"]["version"] == person["version"] + 1
    patrol = results[5]["body"]
    assert patrol["status"] == "finished" and patrol["point_count"] == 3 and patrol["counts"] is True
    assert 220 < patrol["distance_m"] < 225  # the points in the phone's order: two steps of ~111 m
    assert results[2]["body"]["case_draft"]["appeal_type"] == "求助"
    assert "送米" not in str(results[2]["body"]["case_draft"])  # the note stays in the register

    def state():
        emitted = len(events(rt))
        with rt.uow() as s:
            return emitted, (s.scalar(select(func.count()).select_from(Patrol)),
                    s.scalar(select(func.count()).select_from(PatrolPoint)),
                    s.scalar(select(func.count()).select_from(Visit)),
                    s.get(Entry, person["id"]).version)

    after_first = state()
    again = client.post(f"{P}/sync", json={"ops": ops}, headers=h).json()["results"]
    assert [r["replayed"] for r in again] == [True, True, True, True, False, True]
    assert [r["body"] for i, r in enumerate(again) if i != 4] == [r["body"] for i, r in enumerate(results) if i != 4]
    assert state() == after_first  # nothing applied twice


def test_one_key_for_two_different_writes_is_refused(client, rt):
    h = {**auth(rt, WORKER), "Idempotency-Key": "visit-1"}
    person = client.get(f"{P}/register/entries", params={"kind": "person"}, headers=h).json()[0]["id"]
    first = client.post(f"{P}/visits", json={"person_id": person, "note": "一切正常"}, headers=h)
    assert first.status_code == 201
    assert client.post(f"{P}/visits", json={"person_id": person, "note": "一切正常"}, headers=h).json() == first.json()
    r = client.post(f"{P}/visits", json={"person_id": person, "note": "另一次"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency.key_reused"
