"""The submission's hot path on PostgreSQL: one transaction, its number drawn inside the case's INSERT,
the Idempotency-Key claimed in that same transaction, the duplicate offers read before anything is written."""

from sqlalchemy import event

from tests.intake.conftest import GRID_POINT


def statements_of(pg_intake, send):
    seen = []

    def record(conn, cursor, statement, *_):
        seen.append(" ".join(statement.split()).upper())

    def commit(conn):
        seen.append("COMMIT")

    event.listen(pg_intake.rt.engine, "before_cursor_execute", record)
    event.listen(pg_intake.rt.engine, "commit", commit)
    try:
        reply = send()
    finally:
        event.remove(pg_intake.rt.engine, "before_cursor_execute", record)
        event.remove(pg_intake.rt.engine, "commit", commit)
    return reply, seen


def test_a_keyed_submission_is_one_transaction_numbered_in_its_insert_with_offers_read_first(pg_intake):
    pg_intake.submit()  # the month's sequence, the catalogue and the pool are warm
    h = {**pg_intake.auth("resident"), "Idempotency-Key": "lean-1"}
    body = {"category": "env.garbage", "description": "小区东门垃圾桶三天没有清运，气味很大。", **GRID_POINT}
    reply, seen = statements_of(pg_intake, lambda: pg_intake.client.post("/intake/v1/cases", json=body, headers=h))
    assert reply.status_code == 201, reply.text
    assert reply.json()["case_no"].count("-") == 2 and reply.json()["possible_duplicates"]
    assert seen.count("COMMIT") == 1
    assert not [s for s in seen if s.startswith("SELECT NEXTVAL")]  # the number came with the INSERT
    writes = [i for i, s in enumerate(seen) if s.startswith(("INSERT", "UPDATE"))]
    offers = next(i for i, s in enumerate(seen) if s.startswith("SELECT") and "FROM CASES WHERE" in s
                  and "GRID_CELL" in s)
    claim = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO IDEMPOTENCY_KEYS"))
    case = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO CASES"))
    assert offers < writes[0] and claim == writes[0] and claim < case
    assert "ON CONFLICT (USER_ID, KEY) DO NOTHING" in seen[claim]

    replay, seen = statements_of(pg_intake, lambda: pg_intake.client.post("/intake/v1/cases", json=body, headers=h))
    assert replay.status_code == 200 and replay.json()["case_no"] == reply.json()["case_no"]
    assert not [s for s in seen if s.startswith("INSERT INTO CASES")]
