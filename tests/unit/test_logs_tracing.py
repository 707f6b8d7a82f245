"""Structured logs and the event log of a trace: JSON lines in services mode, readable ones embedded,
each with the ids of what the process is doing; the rows each service keeps of the events it emits
and handles, written with the change, and pruned."""

import io
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from sqlalchemy import MetaData, func, select, update

from shared import logs, tracing
from shared.config import get_settings
from shared.events import envelope_for
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched
from shared.messaging.dispatcher import Dispatcher, Outcome
from shared.messaging.tables import messaging_tables
from shared.runtime import build_runtime
from shared.tracing import event_log_table

metadata = MetaData()
outbox_table, inbox_table = messaging_tables(metadata)
event_log = event_log_table(metadata)
log = logging.getLogger("tests.trace")


def submitted(case_id: str = "c-1") -> CaseSubmitted:
    return CaseSubmitted(case_id=case_id, case_no="202405-000001", category="环境卫生", channel="app",
                         submitted_at=datetime(2024, 5, 6, tzinfo=UTC))


def dispatched(case_id: str = "c-1") -> CaseDispatched:
    return CaseDispatched(case_id=case_id, case_no="202405-000001", work_order_id="wo-1", seq=1, unit_id="u-1",
                          unit_code="510107001001001", unit_name="第一网格", unit_level="grid", rule="属地派单",
                          at=datetime(2024, 5, 6, tzinfo=UTC))


@pytest.fixture
def rt(tmp_path):
    runtime = build_runtime("routing", get_settings(var_dir=tmp_path, mode="embedded"), outbox_table, inbox_table,
                            url=f"sqlite:///{tmp_path / 'svc.sqlite'}")
    metadata.create_all(runtime.engine)
    yield runtime
    runtime.dispose()


@pytest.fixture
def lines():
    """The records of every logger, through a handler prepared as the services prepare theirs."""
    stream = io.StringIO()
    handler = logs.prepare(logging.StreamHandler(stream))
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler, stream
    root.removeHandler(handler)
    root.setLevel(level)
    tracing.set_process()


def rows(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(event_log).order_by(event_log.c.id)).all()


# --------------------------------------------------------------------------- log lines


def test_a_services_mode_line_is_one_json_object_with_the_process_and_the_requests_ids(lines):
    handler, stream = lines
    handler.setFormatter(logs.formatter("services"))
    tracing.set_process(service="intake", role="api")
    with tracing.context(request_id="req-1", correlation_id="req-1"):
        log.warning("提交失败 %s https://x/cb?code=0123wxcode", "case.invalid")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "提交失败 case.invalid https://x/cb?code=***"  # secrets still blanked
    assert {k: line[k] for k in ("level", "logger", "service", "role", "request_id", "correlation_id")} == {
        "level": "WARNING", "logger": "tests.trace", "service": "intake", "role": "api", "request_id": "req-1",
        "correlation_id": "req-1"}
    assert datetime.fromisoformat(line["time"]).tzinfo is not None
    assert "event_id" not in line and "handler" not in line  # only the fields present


@pytest.mark.parametrize("mode", ["services", "embedded"])
def test_a_traceback_is_cleaned_of_secrets_like_the_message(lines, mode):
    handler, stream = lines
    handler.setFormatter(logs.formatter(mode))
    try:
        raise RuntimeError("GET https://api.weixin.qq.com/sns/jscode2session?appid=a&secret=s3cr3t&js_code=0123")
    except RuntimeError:
        log.exception("换取会话失败")
    out = stream.getvalue()
    assert "s3cr3t" not in out and "0123" not in out and "secret=***" in out


def test_an_embedded_line_is_readable_and_names_what_it_runs_for(lines):
    handler, stream = lines
    handler.setFormatter(logs.formatter("embedded"))
    with tracing.context(service="routing", role="worker", correlation_id="req-2", event_id="e-1",
                         event_type="intake.case.submitted", handler="routing:intake.case.submitted.v1"):
        log.warning("派单失败")
    log.warning("空闲")
    first, second = stream.getvalue().splitlines()[-2:]
    assert first.endswith(" WARNING tests.trace [routing worker cid=req-2 event=e-1 type=intake.case.submitted "
                          "handler=routing:intake.case.submitted.v1]: 派单失败")
    assert second.endswith(" WARNING tests.trace: 空闲")  # nothing running: no brackets, no stale ids


def test_configure_gives_a_process_without_handlers_json_lines_and_uvicorn_the_same_path(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    level = root.level
    try:
        logs.configure(mode="services", service="notify", role="worker")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, logs.JsonLines)
        assert {type(f) for f in handler.filters} == {logs.TraceFields, logs.RedactSecrets}
        # uvicorn given no logging configuration of its own adds no handler: its lines go up to the root's.
        names = ("uvicorn", "uvicorn.error", "uvicorn.access")
        for name in names:  # as a fresh process has them (an earlier test may have run uvicorn's own dictConfig)
            monkeypatch.setattr(logging.getLogger(name), "handlers", [])
            monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        before = {name: list(logging.getLogger(name).handlers) for name in names}
        uvicorn.Config(app=lambda *a: None, log_config=None, log_level="info")
        for name in names:
            assert logging.getLogger(name).handlers == before[name] and logging.getLogger(name).propagate
        record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process", None, None)
        assert handler.filter(record)
        line = json.loads(handler.format(record))
        assert (line["logger"], line["service"], line["role"]) == ("uvicorn.error", "notify", "worker")
    finally:
        root.setLevel(level)
        tracing.set_process()


# --------------------------------------------------------------------------- handling a message


def test_handling_a_message_logs_its_ids_and_records_it_and_what_it_emitted_in_one_transaction(rt, lines):
    handler, stream = lines
    handler.setFormatter(logs.formatter("services"))
    seen = []

    def on_submitted(ctx, event):
        log.info("dispatching")
        seen.append(tracing.fields())
        ctx.emit(dispatched(event.case_id))

    dispatcher = Dispatcher("routing", rt.sessions, inbox_table, rt.outbox, {"intake.case.submitted.v1": on_submitted})
    env = envelope_for(submitted(), correlation_id="req-3")
    assert dispatcher.handle(env.to_bytes()).outcome is Outcome.ACK
    assert dispatcher.handle(env.to_bytes()).outcome is Outcome.ACK  # a repeat: dropped, recorded once

    line = json.loads([x for x in stream.getvalue().splitlines() if "dispatching" in x][0])
    assert {k: line[k] for k in ("service", "role", "correlation_id", "event_id", "event_type", "handler")} == {
        "service": "routing", "role": "worker", "correlation_id": "req-3", "event_id": env.id,
        "event_type": "intake.case.submitted", "handler": "routing:intake.case.submitted.v1"}
    assert tracing.fields() == {}  # the context ends with the message
    handled, emitted = rows(rt)
    assert (handled.direction, handled.event_id, handled.handler, handled.correlation_id) == (
        "handled", env.id, "routing:intake.case.submitted.v1", "req-3")
    assert (emitted.direction, emitted.event_type, emitted.correlation_id, emitted.causation_id) == (
        "emitted", "routing.case.dispatched", "req-3", env.id)
    with rt.engine.connect() as conn:
        published = json.loads(conn.execute(select(outbox_table.c.body)).scalar_one())
    assert published["id"] == emitted.event_id and published["correlation_id"] == "req-3"


def test_a_failing_handler_leaves_no_trace_of_the_message_or_its_events(rt):
    def fails(ctx, event):
        ctx.emit(dispatched(event.case_id))
        raise RuntimeError("boom")

    dispatcher = Dispatcher("routing", rt.sessions, inbox_table, rt.outbox, {"intake.case.submitted.v1": fails})
    ok = envelope_for(submitted("c-2"), correlation_id="req-5")
    results = dispatcher.handle_batch([envelope_for(submitted(), correlation_id="req-4").to_bytes(), ok.to_bytes()])
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert rows(rt) == []


def test_an_emit_outside_a_handler_is_recorded_at_commit_unless_its_savepoint_rolled_back(rt):
    with rt.unit_of_work("req-6") as uow:
        uow.emit(submitted("c-kept"))
        try:
            with uow.session.begin_nested():
                uow.emit(submitted("c-refused"))
                raise ValueError("a refused row of a batch")
        except ValueError:
            pass
    assert [(r.direction, r.subject_id, r.correlation_id) for r in rows(rt)] == [("emitted", "c-kept", "req-6")]


def test_a_background_job_starts_a_correlation_id_of_its_own_for_each_run(rt):
    for _ in range(2):
        with rt.unit_of_work() as uow:
            uow.emit(submitted(str(uuid.uuid4())))
            log.info("scanning")
            assert tracing.correlation_id() == uow.correlation_id
    first, second = (r.correlation_id for r in rows(rt))
    assert first and second and first != second
    with tracing.context(correlation_id="req-7"), rt.unit_of_work() as uow:  # inside a request: the request's
        assert uow.correlation_id == "req-7"


def test_pruning_deletes_only_rows_older_than_the_retention(rt):
    with rt.unit_of_work("req-8") as uow:
        for _ in range(3):
            uow.emit(submitted(str(uuid.uuid4())))
    old = datetime.now(UTC) - timedelta(days=rt.settings.trace_days + 1)
    with rt.engine.begin() as conn:
        conn.execute(update(event_log).where(event_log.c.id <= 2).values(at=old))
    assert tracing.prune(rt, rt.settings.trace_days, batch=1) == 2
    assert [r.id for r in rows(rt)] == [3]
    assert tracing.prune_when_due(rt) == 0  # once an hour: the first call prunes (nothing left), then waits
    with rt.engine.begin() as conn:
        conn.execute(update(event_log).values(at=old))
    assert tracing.prune_when_due(rt) == 0
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(event_log)).scalar_one() == 1
