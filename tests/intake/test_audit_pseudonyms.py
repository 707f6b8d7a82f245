"""Who the audit trail names when a resident acts on her own anonymous or confidential case: a
pseudonym of her and that case, never her id or address — in the entries of what she does, of what
she is refused, and in the request's access log line — so a reader of the trail cannot tie her to
the case, nor her anonymous cases to each other."""

import json
import logging

from sqlalchemy import select

from services.intake.service import SPEC

PHONE = "13800000003"
RESIDENT = "u-resident-3"


def trail(intake) -> list:
    with intake.rt.uow() as session:
        return session.execute(select(SPEC.audit).order_by(SPEC.audit.c.id)).all()


def test_a_residents_acts_and_refusals_on_her_anonymous_cases_carry_one_pseudonym_per_case(intake, caplog):
    caplog.set_level(logging.INFO, logger="shared.access")
    me = intake.auth("resident", RESIDENT, phone=PHONE)
    first = intake.submit("resident", RESIDENT, anonymous=True, coord_system="wgs84")
    second = intake.submit("resident", RESIDENT, confidential=True, coord_system="wgs84")
    # What she may do on her own case, and what she may not (a staff-only act, refused before the
    # endpoint looks at the case).
    r = intake.client.post(f"/intake/v1/cases/{first['id']}/supplements", json={"text": "今天又堆满了"},
                           headers={**me, "X-Request-ID": "req-supplement"})
    assert r.status_code == 200, r.text
    r = intake.client.post(f"/intake/v1/cases/{first['id']}/notes", json={"text": "备注"},
                           headers={**me, "X-Request-ID": "req-refused"})
    assert r.status_code == 403
    keys = intake.rt.audit_keys
    on_first, on_second = (keys.pseudonym(RESIDENT, f"case:{c['id']}") for c in (first, second))
    assert on_first != on_second  # her anonymous cases are not linked to each other
    entries = trail(intake)
    about = {c: [e for e in entries if e.subject_id == c] for c in (first["id"], second["id"])}
    assert {e.actor_id for e in about[first["id"]]} == {on_first}
    assert {e.actor_id for e in about[second["id"]]} == {on_second}
    refused = next(e for e in entries if e.action.startswith("refused."))
    assert (refused.actor_id, refused.ip, refused.subject_id) == (on_first, None, first["id"])
    assert not [e for e in entries if e.actor_id == RESIDENT or (e.actor_id or "").startswith("anon:") and e.ip]
    # The access log lines of those requests name nobody.
    lines = [json.loads(r.getMessage().removeprefix("access ")) for r in caplog.records if r.name == "shared.access"]
    for rid in ("req-supplement", "req-refused"):
        [line] = [x for x in lines if x["request_id"] == rid]
        assert line["user"] == "anon" and "client" not in line


def test_a_refusal_on_someone_elses_case_names_the_resident(intake):
    other = intake.submit("resident", "u-resident-1", anonymous=True, coord_system="wgs84")
    me = intake.auth("resident", RESIDENT, phone=PHONE)
    assert intake.client.post(f"/intake/v1/cases/{other['id']}/notes", json={"text": "x"},
                              headers=me).status_code == 403
    refused = next(e for e in trail(intake) if e.action.startswith("refused."))
    assert (refused.actor_id, refused.subject_id) == (RESIDENT, other["id"])
