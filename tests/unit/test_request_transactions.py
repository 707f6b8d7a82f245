"""One transaction per request (shared.deps.Uow): committed before the response is sent, rolled
back when the endpoint refuses, its events correlated with the request."""

import json

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select

from shared.config import get_settings
from shared.deps import CorrelationId, EmitDep, English, Runtime, SessionDep, Uow
from shared.errors import ApiError
from shared.events.intake import CaseWithdrawn
from shared.messaging.tables import messaging_tables
from shared.runtime import build_runtime
from shared.web import create_app

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))

router = APIRouter(prefix="/v1")


@router.post("/things/{name}")
def create(name: str, uow: Uow, correlation: CorrelationId) -> dict:
    uow.session.execute(insert(things).values(name=name))
    uow.emit(CaseWithdrawn(case_id=name, case_no="2026-11-000001", at="2026-11-30T00:00:00Z"))
    if name == "refused":
        raise ApiError(409, "case.cannot_withdraw")
    return {"correlation": correlation}


@router.get("/things")
def count(session: SessionDep, emit: EmitDep, rt: Runtime, english: English) -> dict:
    # SessionDep and EmitDep come from the same unit of work as Uow would.
    return {"things": session.scalar(select(func.count()).select_from(things)), "service": rt.name,
            "english": english}


@pytest.fixture
def app(tmp_path):
    rt = build_runtime("demo", get_settings(var_dir=tmp_path), outbox, inbox, url=f"sqlite:///{tmp_path / 'd.db'}")
    metadata.create_all(rt.engine)
    yield rt, TestClient(create_app(rt, title="t", description="t", router=router), raise_server_exceptions=False)
    rt.dispose()


def rows(rt, table) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_the_change_and_its_event_are_committed_with_the_request_id_as_correlation(app):
    rt, client = app
    r = client.post("/demo/v1/things/a", headers={"X-Request-ID": "req-42"})
    assert r.status_code == 200 and r.json() == {"correlation": "req-42"}
    assert [row.name for row in rows(rt, things)] == ["a"]
    (message,) = rows(rt, outbox)
    assert json.loads(message.body)["correlation_id"] == "req-42"


def test_a_refused_request_changes_nothing_and_emits_nothing(app):
    rt, client = app
    r = client.post("/demo/v1/things/refused")
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_withdraw"
    assert rows(rt, things) == [] and rows(rt, outbox) == []


def test_a_commit_that_fails_is_never_answered_with_a_success(app):
    rt, client = app

    @event.listens_for(rt.sessions, "before_commit")
    def fail(session):
        raise RuntimeError("the database went away at commit")

    r = client.post("/demo/v1/things/b")
    assert r.status_code == 500
    event.remove(rt.sessions, "before_commit", fail)
    assert rows(rt, things) == [] and rows(rt, outbox) == []


def test_reads_share_the_request_dependencies(app):
    _, client = app
    client.post("/demo/v1/things/c")
    assert client.get("/demo/v1/things", headers={"Accept-Language": "en"}).json() == {
        "things": 1, "service": "demo", "english": True}
