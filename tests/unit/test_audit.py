"""The audit trail: who did what to which record, chained so that an entry changed, removed or
inserted afterwards shows, and on PostgreSQL refused outright once sealed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from services.routing.service import SPEC
from shared import audit
from shared.auth import issue_token
from shared.config import get_settings
from shared.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rt(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    upgrade("routing", settings.database_url("routing"))
    runtime = SPEC.runtime(settings)
    SPEC.seed(runtime)
    yield runtime
    runtime.dispose()


def entries(rt) -> list:
    with rt.uow() as session:
        return session.execute(select(rt.audit).order_by(rt.audit.c.id)).all()


def submitted(case_id: str = "c-1", correlation_id: str | None = None) -> bytes:
    from datetime import UTC, datetime

    from shared.events import envelope_for
    from shared.events.intake import CaseSubmitted

    return envelope_for(CaseSubmitted(case_id=case_id, case_no="2026-11-000001", category="env.garbage",
                                      channel="app", lat=30.6283, lon=104.052115, matter_class="小事",
                                      submitted_at=datetime.now(UTC)), correlation_id=correlation_id).to_bytes()


def test_a_request_that_changes_something_is_recorded_with_its_actor_address_and_request_id(rt):
    assert SPEC.dispatcher(rt).handle(submitted()).outcome.value == "ack"
    client = TestClient(SPEC.app(rt))
    token = issue_token(rt.settings, "u-grid-worker-001001", "grid_worker", "510107001001001")
    with rt.uow() as session:
        from services.routing.models import RoutingCase

        order_id = session.get(RoutingCase, "c-1").lead_work_order_id
    r = client.post(f"/routing/v1/work-orders/{order_id}/sign",
                    headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-audit-1"})
    assert r.status_code == 200
    [signed] = [e for e in entries(rt) if e.action == "routing.case.signed"]
    assert (signed.actor_id, signed.actor_role, signed.ip, signed.request_id) == (
        "u-grid-worker-001001", "grid_worker", "testclient", "req-audit-1")
    with rt.unit_of_work() as uow:  # a job acts as the system
        uow.audit("export.ledger", subject_kind="unit", subject_id="510107001000000", detail={"rows": 3})
    assert (entries(rt)[-1].action, entries(rt)[-1].actor_id) == ("export.ledger", "system")


def test_every_event_a_change_emits_is_an_entry_and_a_handler_acts_as_the_system(rt):
    assert SPEC.dispatcher(rt).handle(submitted(correlation_id="req-77")).outcome.value == "ack"
    [entry] = [e for e in entries(rt) if e.action == "routing.case.dispatched"]
    assert (entry.actor_id, entry.subject_kind, entry.subject_id, entry.request_id) == ("system", "case", "c-1",
                                                                                         "req-77")
    assert set(json.loads(entry.detail)) == {"event_id"}  # ids only, never personal data


def write(rt, n: int) -> None:
    with rt.unit_of_work() as uow:
        for i in range(n):
            uow.audit("read.case", subject_kind="case", subject_id=f"c-{i}")


def seal_all(rt) -> None:
    with rt.uow() as session:
        while audit.seal(session, rt.audit):
            pass


def verdict(rt) -> audit.Verdict:
    with rt.uow() as session:
        return audit.verify(session, rt.audit)


def test_sealed_entries_form_a_chain_that_verifies(rt):
    write(rt, 5)
    assert verdict(rt).checked == 0  # nothing sealed yet
    seal_all(rt)
    write(rt, 3)
    seal_all(rt)
    v = verdict(rt)
    assert v.intact and v.checked == 8
    rows = entries(rt)
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


@pytest.mark.parametrize("tamper", ["edit", "delete", "insert"])
def test_an_entry_edited_removed_or_slipped_in_afterwards_breaks_the_chain_there(rt, tamper):
    write(rt, 6)
    seal_all(rt)
    third = entries(rt)[2]
    with rt.engine.begin() as conn:
        if tamper == "edit":
            conn.execute(update(rt.audit).where(rt.audit.c.id == third.id).values(actor_id="someone-else"))
        elif tamper == "delete":
            conn.execute(delete(rt.audit).where(rt.audit.c.id == third.id))
        else:
            conn.execute(rt.audit.insert().values(id=third.id + 1000, at=third.at, action="read.case",
                                                  prev_hash=third.hash, hash="f" * 64))
    v = verdict(rt)
    assert not v.intact
    # An edit breaks at the entry; a removal at the next one (its predecessor is gone); an entry slipped in
    # with a forged hash at itself.
    assert v.broken_at == {"edit": third.id, "delete": third.id + 1, "insert": third.id + 1000}[tamper]


def test_the_verify_command_says_intact_or_where_the_chain_breaks(rt, tmp_path):
    write(rt, 3)
    seal_all(rt)
    env = {"PATH": "/usr/bin:/bin", "CG_VAR_DIR": str(tmp_path), "CG_MODE": "embedded"}
    ok = subprocess.run([sys.executable, "-m", "shared.audit", "verify", "routing"], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "intact (3 entries)" in ok.stdout
    second = entries(rt)[1].id
    with rt.engine.begin() as conn:
        conn.execute(update(rt.audit).where(rt.audit.c.id == second).values(action="nothing.here"))
    broken = subprocess.run([sys.executable, "-m", "shared.audit", "verify", "routing"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1 and "BROKEN" in broken.stdout


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_delete_a_sealed_entry(pg_database, tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    upgrade("routing", pg_database)
    rt = SPEC.runtime(settings, pg_database)
    try:
        write(rt, 2)
        seal_all(rt)
        first = entries(rt)[0]
        for statement in (f"UPDATE audit_trail SET action = 'x' WHERE id = {first.id}",
                          f"DELETE FROM audit_trail WHERE id = {first.id}"):
            with pytest.raises(Exception, match="append-only"), rt.engine.begin() as conn:
                conn.execute(text(statement))
        assert verdict(rt).intact
    finally:
        rt.dispose()


def test_supervisors_read_the_trail_and_their_reading_is_recorded_others_get_403(rt):
    write(rt, 2)
    client = TestClient(SPEC.app(rt))
    sup = {"Authorization": f"Bearer {issue_token(rt.settings, 'u-supervisor-1', 'supervisor', '510107000000000')}"}
    grid = {"Authorization": f"Bearer {issue_token(rt.settings, 'u-grid-worker-001001', 'grid_worker')}"}
    r = client.get("/routing/v1/audit", params={"action": "read."}, headers=sup)
    assert r.status_code == 200 and [e["action"] for e in r.json()["items"]] == ["read.case", "read.case"]
    assert client.get("/routing/v1/audit", headers=grid).status_code == 403
    assert client.get("/routing/v1/audit").status_code == 401
    far = client.get("/routing/v1/audit", params={"since": "0001-01-01T00:00:00+14:00"}, headers=sup)
    assert far.status_code == 422
    assert entries(rt)[-1].action == "read.audit" and entries(rt)[-1].actor_id == "u-supervisor-1"


@pytest.mark.postgres
def test_input_postgresql_cannot_store_is_a_422_not_a_500(pg_database, tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    upgrade("routing", pg_database)
    rt = SPEC.runtime(settings, pg_database)
    try:
        client = TestClient(SPEC.app(rt), raise_server_exceptions=False)
        sup = {"Authorization": f"Bearer {issue_token(settings, 'u-supervisor-1', 'supervisor', '510107000000000')}"}
        r = client.get("/routing/v1/audit", params={"subject_id": "c-\x00"}, headers=sup)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation.bad_type"
    finally:
        rt.dispose()
