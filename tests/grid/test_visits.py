"""Care visits: due by the category's rule, an overdue one warned once, a visit moves the next one on."""

from datetime import timedelta

from services.grid import clocks
from shared.db import utcnow

from .conftest import WORKER, P, auth, events


def test_an_overdue_visit_is_warned_once_and_a_visit_schedules_the_next(client, rt):
    h = auth(rt, WORKER)
    person = next(e for e in client.get(f"{P}/register/entries", params={"kind": "person"}, headers=h).json()
                  if e["category"] == "elderly_alone")
    assert person["visit_every_days"] == 7  # 独居老人: weekly (data/categories.json)
    late = utcnow() + timedelta(days=8)
    clocks.scan(rt, now=late)
    clocks.scan(rt, now=late + timedelta(minutes=1))
    assert [e["data"]["person_id"] for e in events(rt, "grid.visit.overdue")] == [person["id"]]
    r = client.post(f"{P}/visits", json={"person_id": person["id"], "note": "血压偏高，已提醒按时服药"}, headers=h)
    assert r.status_code == 201 and r.json()["case_draft"] is None
    due = client.get(f"{P}/visits/due", params={"within_days": 6}, headers=h).json()
    assert person["id"] not in [d["person_id"] for d in due]  # next due in a week
    street = client.get(f"{P}/register/entries/{person['id']}", headers=auth(rt, "u-street-dispatcher-1")).json()
    assert street["last_visit_at"] is not None


def test_a_visit_note_or_a_register_name_of_blanks_or_control_characters_is_refused(client, rt):
    h = auth(rt, WORKER)
    person = client.get(f"{P}/register/entries", params={"kind": "person"}, headers=h).json()[0]
    for note, code in (("  \u3000", "validation.blank"), ("情况\x00良好", "validation.control_character")):
        r = client.post(f"{P}/visits", json={"person_id": person["id"], "note": note}, headers=h)
        assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, "note")
    r = client.post(f"{P}/register/entries", json={"kind": "building", "name": " \u200b "}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation.blank", r.text
    assert client.get(f"{P}/register/entries/{person['id']}", headers=h).json()["last_visit_at"] is None
