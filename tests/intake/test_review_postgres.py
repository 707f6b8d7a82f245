"""Races on PostgreSQL: retried submissions and the evaluation timeout scan run by several workers."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.intake.cases import expire_evaluations
from services.intake.models import Case, Evaluation
from services.intake.service import SPEC
from shared.config import get_settings
from shared.db import utcnow
from shared.migrate import upgrade

from .conftest import GRID_POINT, Intake
from .test_lifecycle import resolve


@pytest.fixture
def pg_intake(tmp_path, pg_database):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    upgrade("intake", pg_database)
    rt = SPEC.runtime(settings, pg_database)
    yield Intake(settings, rt, TestClient(SPEC.app(rt)), SPEC.dispatcher(rt))
    rt.dispose()


def test_racing_retries_of_one_submission_make_one_case(pg_intake):
    h = {**pg_intake.auth("resident"), "Idempotency-Key": "weak-signal-1"}
    body = {"category": "env.garbage", "description": "小区东门垃圾桶三天没有清运", **GRID_POINT}
    with ThreadPoolExecutor(6) as ex:
        replies = list(ex.map(lambda _: pg_intake.client.post("/intake/v1/cases", json=body, headers=h), range(6)))
    assert all(r.status_code in (200, 201) for r in replies), [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1
    with pg_intake.rt.uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
    assert len(pg_intake.events("intake.case.submitted")) == 1


def test_the_timeout_scan_records_each_case_once_with_several_workers(pg_intake):
    for i in range(12):
        resolve(pg_intake, pg_intake.submit(description=f"第 {i} 号楼垃圾没人收"), wo=f"wo-{i}")
    later = utcnow() + timedelta(days=8)
    start = threading.Barrier(4)

    def scan(_):
        start.wait()
        with pg_intake.rt.uow() as s:
            return expire_evaluations(s, pg_intake.rt.outbox, later, limit=5)

    with ThreadPoolExecutor(4) as ex:
        done = sum(ex.map(scan, range(4)))
    while True:
        with pg_intake.rt.uow() as s:
            n = expire_evaluations(s, pg_intake.rt.outbox, later, limit=5)
        if n == 0:
            break
        done += n
    assert done == 12
    with pg_intake.rt.uow() as s:
        rows = s.scalars(select(Evaluation)).all()
    assert len(rows) == 12 and len({r.case_id for r in rows}) == 12
    assert all(r.evaluated is False and r.satisfaction is None for r in rows)
    assert len(pg_intake.events("intake.case.evaluated")) == 12

