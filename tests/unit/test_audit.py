"""The audit trail: who did what to which record, chained so that an entry changed, removed or
inserted afterwards shows, and on PostgreSQL refused outright once sealed."""

import hashlib
import json
import logging
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from services.routing.service import SPEC
from shared import audit
from shared.auth import issue_token
from shared.config import get_settings
from shared.db import make_engine
from shared.migrate import alembic_config, upgrade

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
    """What the worker does: chain what is pending and anchor the head outside the database."""
    while audit.seal_pending(rt):
        pass


def anchored(rt) -> audit.Head | None:
    return audit.Anchor.of(rt.settings, rt.name).last()


def verdict(rt) -> audit.Verdict:
    with rt.uow() as session:
        return audit.verify(session, rt.audit, rt.audit_keys, audit.Anchor.of(rt.settings, rt.name).heads())


@contextmanager
def as_attacker(rt):
    """Someone who can write the database file and drops the append-only triggers first."""
    with rt.engine.begin() as conn:
        for statement in audit.drop_sqlite_append_only_ddl():
            conn.execute(text(statement))
        yield conn


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
    with as_attacker(rt) as conn:
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
    with as_attacker(rt) as conn:
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
    # Entries about cases routing holds (a supervisor reads those in her subtree: test_audit_scopes.py).
    for case_id in ("c-0", "c-1"):
        assert SPEC.dispatcher(rt).handle(submitted(case_id)).outcome.value == "ack"
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
    reading = [e for e in entries(rt) if e.action == "read.audit"]
    assert [e.actor_id for e in reading] == ["u-supervisor-1"]
    # The grid worker's refusal is an entry too (test_refused_requests_are_recorded...); the 401 is not.
    assert entries(rt)[-1].action == "refused.auth.forbidden" and entries(rt)[-1].actor_id == "u-grid-worker-001001"


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


# --------------------------------------------------------------------------- the keyed chain, its anchor


def plain_sha256_chain(conn, rt) -> None:
    """What someone with write access to the database did before the chain was keyed: recompute it."""
    prev = audit.GENESIS
    for row in conn.execute(select(rt.audit).order_by(rt.audit.c.id)).all():
        digest = hashlib.sha256("\x1f".join([prev, str(row.id), row.at.isoformat(), row.actor_id or "",
                                             row.actor_role or "", row.action, row.subject_kind or "",
                                             row.subject_id or "", row.detail or "", row.ip or "",
                                             row.request_id or ""]).encode()).hexdigest()
        conn.execute(update(rt.audit).where(rt.audit.c.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest


def test_an_entry_edited_and_the_chain_recomputed_without_the_key_does_not_verify(rt):
    write(rt, 4)
    seal_all(rt)
    rows = entries(rt)
    with as_attacker(rt) as conn:
        conn.execute(update(rt.audit).where(rt.audit.c.id == rows[1].id).values(actor_id="someone-else"))
        plain_sha256_chain(conn, rt)
    v = verdict(rt)
    assert not v.intact and v.broken_at == rows[0].id
    assert "without the key" in v.reason


def test_entries_whose_seal_was_removed_are_never_sealed_again_and_verify_reports_them(rt):
    write(rt, 6)
    seal_all(rt)
    rows = entries(rt)
    with as_attacker(rt) as conn:  # unseal two entries in the middle and edit one of them
        conn.execute(update(rt.audit).where(rt.audit.c.id.in_([rows[2].id, rows[3].id]))
                     .values(hash=None, prev_hash=None))
        conn.execute(update(rt.audit).where(rt.audit.c.id == rows[3].id).values(action="read.nothing"))
    write(rt, 1)
    seal_all(rt)  # the sealer chains the new entry after the last sealed one, not the two below it
    after = entries(rt)
    assert after[2].hash is None and after[3].hash is None and after[-1].hash is not None
    v = verdict(rt)
    assert not v.intact and v.broken_at == rows[2].id and "seal was removed" in v.reason


def test_entries_removed_from_the_end_are_found_by_the_anchor(rt):
    write(rt, 6)
    seal_all(rt)
    head = anchored(rt)
    rows = entries(rt)
    assert head is not None and head.id == rows[-1].id and head.count == 6
    with as_attacker(rt) as conn:
        conn.execute(delete(rt.audit).where(rt.audit.c.id >= rows[4].id))
    with rt.uow() as session:  # the chain that is left is a valid chain ...
        assert audit.verify(session, rt.audit, rt.audit_keys).intact
    v = verdict(rt)  # ... but not the one anchored outside the database
    assert not v.intact and v.broken_at == head.id and "removed from the end" in v.reason


def test_the_last_entries_unsealed_edited_and_sealed_again_are_found_by_the_anchor(rt):
    write(rt, 5)
    seal_all(rt)
    rows = entries(rt)
    with as_attacker(rt) as conn:  # the tail: the sealer chains it again, under the right key
        conn.execute(update(rt.audit).where(rt.audit.c.id >= rows[3].id).values(hash=None, prev_hash=None))
        conn.execute(update(rt.audit).where(rt.audit.c.id == rows[3].id).values(actor_id="someone-else"))
    seal_all(rt)
    v = verdict(rt)  # the head anchored first still names the old hash of the last entry
    assert not v.intact and v.broken_at == rows[-1].id and "another hash" in v.reason


def test_each_sealing_appends_the_new_head_to_the_anchor_file_and_logs_it(rt, caplog):
    caplog.set_level(logging.INFO, logger="shared.audit")
    write(rt, 3)
    seal_all(rt)
    write(rt, 2)
    seal_all(rt)
    path = rt.settings.var_dir.resolve() / "audit-anchors" / "routing.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    rows = entries(rt)
    assert [(x["id"], x["hash"], x["count"]) for x in lines] == [(rows[2].id, rows[2].hash, 3),
                                                                  (rows[4].id, rows[4].hash, 5)]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audit anchor ")]
    assert [json.loads(m.removeprefix("audit anchor "))["id"] for m in logged] == [rows[2].id, rows[4].id]
    assert verdict(rt).intact


def test_anchored_heads_written_slightly_out_of_order_are_read_in_id_order(tmp_path):
    anchor = audit.Anchor(tmp_path / "routing.jsonl", "routing")
    at = datetime(2026, 11, 30, tzinfo=UTC)
    for i in (1, 3, 2, 5, 4):  # two workers of a host append after their own commits
        anchor.append(audit.Head(i, f"h{i}", at, i))
    assert [h.id for h in anchor.heads(reorder=2)] == [1, 2, 3, 4, 5]
    assert anchor.last().id == 4  # the sealer extends the last line it wrote


def test_the_anchor_directory_is_a_setting(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded", audit_anchor_dir=tmp_path / "offsite")
    assert audit.Anchor.of(settings, "intake").path == (tmp_path / "offsite" / "intake.jsonl").resolve()


def test_the_verify_command_holds_the_chain_to_an_anchor_file_shipped_elsewhere(rt, tmp_path):
    write(rt, 3)
    seal_all(rt)
    shipped = tmp_path / "offsite.jsonl"
    shipped.write_text((rt.settings.var_dir / "audit-anchors" / "routing.jsonl").read_text())
    last = entries(rt)[-1].id
    with as_attacker(rt) as conn:
        conn.execute(delete(rt.audit).where(rt.audit.c.id == last))
    local = rt.settings.var_dir / "audit-anchors" / "routing.jsonl"
    local.unlink()  # the attacker removed the local anchor too
    env = {"PATH": "/usr/bin:/bin", "CG_VAR_DIR": str(tmp_path), "CG_MODE": "embedded"}
    run = [sys.executable, "-m", "shared.audit", "verify", "routing"]
    fooled = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert fooled.returncode == 0  # without an anchor, a shortened chain is still a chain
    held = subprocess.run([*run, "--anchor", str(shipped)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert held.returncode == 1 and "removed from the end" in held.stdout


# --------------------------------------------------------------------------- append-only in the database


def refused(conn, statement: str) -> bool:
    try:
        with conn.begin_nested():
            conn.execute(text(statement))
    except Exception as exc:
        assert audit.APPEND_ONLY in str(exc)
        return True
    return False


def check_append_only(engine, table) -> None:
    with engine.begin() as conn:
        for i in range(3):
            audit.record(conn, table, None, "read.case", subject_kind="case", subject_id=f"c-{i}")
    with engine.begin() as conn:
        first, second, third = [r.id for r in conn.execute(select(table.c.id).order_by(table.c.id))]
        conn.execute(text(f"UPDATE audit_trail SET prev_hash = '{'0' * 64}', hash = '{'1' * 64}' WHERE id = {first}"))
    with engine.connect() as conn:
        # A sealed entry: neither changed, nor unsealed, nor deleted.
        assert refused(conn, f"UPDATE audit_trail SET action = 'x' WHERE id = {first}")
        assert refused(conn, f"UPDATE audit_trail SET hash = NULL, prev_hash = NULL WHERE id = {first}")
        assert refused(conn, f"DELETE FROM audit_trail WHERE id = {first}")
        # An unsealed one: chained, but neither changed nor deleted.
        assert refused(conn, f"UPDATE audit_trail SET actor_id = 'x' WHERE id = {second}")
        assert refused(conn, f"DELETE FROM audit_trail WHERE id = {third}")
        assert not refused(conn, f"UPDATE audit_trail SET prev_hash = '{'1' * 64}', hash = '{'2' * 64}' "
                                 f"WHERE id = {second}")
        # Nor an entry replaced by one written over its id, nor one slipped in already sealed.
        columns = "id, at, actor_id, actor_role, action, subject_kind, subject_id, detail, ip, request_id, " \
                  "prev_hash, hash"
        if engine.dialect.name == "sqlite":
            assert refused(conn, f"INSERT OR REPLACE INTO audit_trail ({columns}) SELECT id, at, 'someone', "
                                 f"actor_role, action, subject_kind, subject_id, detail, ip, request_id, prev_hash, "
                                 f"hash FROM audit_trail WHERE id = {first}")
        assert refused(conn, f"INSERT INTO audit_trail ({columns}) SELECT {third} + 100, at, 'someone', actor_role, "
                             f"action, subject_kind, subject_id, detail, ip, request_id, prev_hash, hash "
                             f"FROM audit_trail WHERE id = {first}")
        if engine.dialect.name == "postgresql":
            assert refused(conn, "TRUNCATE audit_trail")
        conn.rollback()


def test_sqlite_refuses_to_change_or_delete_entries_whether_migrated_or_made_by_create_all(rt, tmp_path):
    check_append_only(rt.engine, rt.audit)  # the migrations' database
    engine = make_engine(f"sqlite:///{tmp_path / 'made.sqlite'}")
    SPEC.metadata.create_all(engine)  # what tests and tools make
    try:
        check_append_only(engine, rt.audit)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_refuses_the_same_whether_migrated_or_made_by_create_all(pg_databases, tmp_path):
    migrated, made = pg_databases(), pg_databases()
    upgrade("routing", migrated)
    for url, create in ((migrated, False), (made, True)):
        engine = make_engine(url)
        try:
            if create:
                SPEC.metadata.create_all(engine)
            check_append_only(engine, SPEC.audit)
        finally:
            engine.dispose()


# --------------------------------------------------------------------------- the migration that keys the chain


def test_the_migration_keys_the_chain_and_keeps_the_verdict_on_the_old_one(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    url = settings.database_url("routing")
    command.upgrade(alembic_config("routing", url), "routing_0005")
    engine = make_engine(url)
    with engine.begin() as conn:
        for i in range(4):
            audit.record(conn, SPEC.audit, None, "read.case", subject_kind="case", subject_id=f"c-{i}")
        plain_sha256_chain(conn, type("Rt", (), {"audit": SPEC.audit})())  # the old sealer's chain
    engine.dispose()
    upgrade("routing", url)
    rt = SPEC.runtime(settings)
    try:
        rows = entries(rt)
        assert all(r.hash is None for r in rows)  # every seal cleared, for the keyed sealer
        assert rows[-1].action == "audit.rechained" and json.loads(rows[-1].detail) == {
            "previous_chain": "intact", "checked": 4}
        seal_all(rt)
        assert verdict(rt).intact and verdict(rt).checked == 5
    finally:
        rt.dispose()


def test_the_migration_records_an_old_chain_that_was_already_broken(tmp_path):
    settings = get_settings(var_dir=tmp_path, mode="embedded")
    url = settings.database_url("routing")
    command.upgrade(alembic_config("routing", url), "routing_0005")
    engine = make_engine(url)
    with engine.begin() as conn:
        for i in range(3):
            audit.record(conn, SPEC.audit, None, "read.case", subject_kind="case", subject_id=f"c-{i}")
        plain_sha256_chain(conn, type("Rt", (), {"audit": SPEC.audit})())
        second = conn.execute(select(SPEC.audit.c.id).order_by(SPEC.audit.c.id)).all()[1].id
        conn.execute(update(SPEC.audit).where(SPEC.audit.c.id == second).values(action="read.nothing"))
    engine.dispose()
    upgrade("routing", url)
    rt = SPEC.runtime(settings)
    try:
        assert json.loads(entries(rt)[-1].detail) == {"previous_chain": "broken", "checked": 1, "broken_at": second}
    finally:
        rt.dispose()


@pytest.mark.postgres
def test_the_migration_keys_the_chain_on_postgresql_too(pg_database, tmp_path):
    command.upgrade(alembic_config("routing", pg_database), "routing_0005")
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        for i in range(3):
            audit.record(conn, SPEC.audit, None, "read.case", subject_kind="case", subject_id=f"c-{i}")
        plain_sha256_chain(conn, type("Rt", (), {"audit": SPEC.audit})())
    engine.dispose()
    upgrade("routing", pg_database)
    # No other transaction is open to wait for: seal at once.
    rt = SPEC.runtime(get_settings(var_dir=tmp_path, mode="embedded", audit_seal_settle_seconds=0), pg_database)
    try:
        assert all(r.hash is None for r in entries(rt)) and entries(rt)[-1].action == "audit.rechained"
        seal_all(rt)
        assert verdict(rt).intact and verdict(rt).checked == 4
    finally:
        rt.dispose()


# --------------------------------------------------------------------------- pseudonyms


def test_a_pseudonym_names_one_user_on_one_subject_so_her_anonymous_cases_are_not_linked(rt):
    keys = rt.audit_keys
    one = keys.pseudonym("u-resident-1", "case:c-1")
    assert one.startswith("anon:") and len(one) == 21 and "u-resident-1" not in one
    assert one == keys.pseudonym("u-resident-1", "case:c-1")
    assert one != keys.pseudonym("u-resident-1", "case:c-2") and one != keys.pseudonym("u-resident-2", "case:c-1")


def test_the_pseudonym_command_tells_the_security_officer_whether_a_user_is_a_pseudonym(rt, tmp_path):
    expected = rt.audit_keys.pseudonym("u-resident-1", "case:c-1")
    env = {"PATH": "/usr/bin:/bin", "CG_VAR_DIR": str(tmp_path), "CG_MODE": "embedded"}
    run = [sys.executable, "-m", "shared.audit", "pseudonym", "routing", "u-resident-1", "case:c-1"]
    out = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.splitlines()[0] == expected
    same = subprocess.run([*run, expected], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert same.returncode == 0 and "the same user" in same.stdout
    other = subprocess.run([*run, rt.audit_keys.pseudonym("u-resident-2", "case:c-1")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 1 and "another user" in other.stdout


def test_a_concealed_unit_of_work_names_its_actor_by_pseudonym_without_the_address(rt):
    who = audit.Actor("u-resident-1", "resident", "10.1.2.3", "req-1")
    told = []
    with rt.unit_of_work("req-1", actor=lambda: who, on_conceal=told.append) as uow:
        uow.audit("read.case", subject_kind="case", subject_id="c-1")
        uow.conceal_actor()
        uow.audit("read.case", subject_kind="case", subject_id="c-2")
    plain, hidden = entries(rt)[-2:]
    assert (plain.actor_id, plain.ip) == ("u-resident-1", "10.1.2.3")
    assert (hidden.actor_id, hidden.actor_role, hidden.ip, hidden.request_id) == (
        rt.audit_keys.pseudonym("u-resident-1", "case:c-2"), "resident", None, "req-1")
    assert [(a.id, a.ip) for a in told] == [("anon", None)]  # the request's log line names nobody


# --------------------------------------------------------------------------- refusals, the access log


def dispatched_order(rt, case_id: str = "c-1") -> str:
    from services.routing.models import RoutingCase

    assert SPEC.dispatcher(rt).handle(submitted(case_id)).outcome.value == "ack"
    with rt.uow() as session:
        return session.get(RoutingCase, case_id).lead_work_order_id


def test_a_refusal_to_someone_signed_in_is_recorded_in_its_own_transaction(rt):
    order_id = dispatched_order(rt)
    client = TestClient(SPEC.app(rt))
    token = issue_token(rt.settings, "u-grid-worker-002001", "grid_worker", "510107001002001")
    elsewhere = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-refused"}
    r = client.get(f"/routing/v1/work-orders/{order_id}", headers=elsewhere)
    assert r.status_code == 404
    [entry] = [e for e in entries(rt) if e.action.startswith("refused.")]
    assert (entry.action, entry.actor_id, entry.subject_kind, entry.subject_id, entry.request_id) == (
        "refused.workorder.not_found", "u-grid-worker-002001", "work_order", order_id, "req-refused")
    assert json.loads(entry.detail) == {"status": 404, "method": "GET",
                                        "route": "/routing/v1/work-orders/{order_id}"}
    # A role refused outright (403) too; someone not signed in (401) is nobody to name.
    resident = {"Authorization": f"Bearer {issue_token(rt.settings, 'u-resident-1', 'resident')}"}
    assert client.get("/routing/v1/audit", headers=resident).status_code == 403
    assert client.get(f"/routing/v1/work-orders/{order_id}").status_code == 401
    refusals = [e for e in entries(rt) if e.action.startswith("refused.")]
    # A resident is named too: her refusal concerns no anonymous record of hers (routing has none).
    assert [(e.action, e.actor_id, e.ip) for e in refusals] == [
        ("refused.workorder.not_found", "u-grid-worker-002001", "testclient"),
        ("refused.auth.forbidden", "u-resident-1", "testclient")]


@pytest.mark.parametrize("typed", ["13912345678", "139-1234-5678", "x110101199003077777", "刘淑芬",
                                   "1" * 20, "138,1234,5678"])
def test_personal_data_typed_where_an_id_belongs_never_reaches_the_trail(rt, typed):
    client = TestClient(SPEC.app(rt))
    token = issue_token(rt.settings, "u-grid-worker-002001", "grid_worker", "510107001002001")
    assert client.get(f"/routing/v1/work-orders/{typed}", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 404
    [entry] = [e for e in entries(rt) if e.action.startswith("refused.")]
    assert entry.subject_id == "(invalid)"


def test_ids_and_unit_codes_are_kept_as_they_are():
    assert audit.safe_id("2b7c0a8e-5f1d-4c2b-9a57-0d7c2f1e9a11") == "2b7c0a8e-5f1d-4c2b-9a57-0d7c2f1e9a11"
    assert audit.safe_id("54151730-1234-4c2b-9a57-012345678901") == "54151730-1234-4c2b-9a57-012345678901"
    assert audit.safe_id("u-grid-worker-001001") == "u-grid-worker-001001"
    assert audit.safe_id("510107001001001", code=True) == "510107001001001"
    assert audit.safe_id("510107001001001") == "(invalid)"  # where no code belongs, it may be an ID number


def test_every_request_has_one_access_log_line_without_query_string_or_body(rt, caplog):
    order_id = dispatched_order(rt)
    client = TestClient(SPEC.app(rt))
    caplog.set_level(logging.INFO, logger="shared.access")
    sup = {"Authorization": f"Bearer {issue_token(rt.settings, 'u-supervisor-1', 'supervisor', '510107000000000')}",
           "X-Request-ID": "req-log-1"}
    assert client.get(f"/routing/v1/work-orders/{order_id}", params={"phone": "13912345678"},
                      headers=sup).status_code == 200
    assert client.get("/routing/v1/no-such-thing").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "shared.access"]
    assert len(lines) == 2 and all(x.startswith("access ") for x in lines)
    first, second = (json.loads(x.removeprefix("access ")) for x in lines)
    assert first["ms"] >= 0 and {k: v for k, v in first.items() if k != "ms"} == {
        "service": "routing", "method": "GET", "route": "/routing/v1/work-orders/{order_id}", "status": 200,
        "user": "u-supervisor-1", "request_id": "req-log-1", "client": "testclient"}
    assert second["route"] is None and second["status"] == 404 and "user" not in second
    assert "13912345678" not in "".join(lines) and order_id not in "".join(lines)
