"""Dispute numbers (调解案件编号) come from a running number per month, not from random digits: six random hex
digits were expected to collide at a few thousand disputes a day (one IntegrityError was seen)."""

import re
import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from services.mediation.disputes import new_dispute_no
from services.mediation.service import SPEC
from shared.config import get_settings
from shared.migrate import upgrade

from .conftest import auth
from .helpers import GRID_1, RESIDENT, apply

MARCH = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 2 March, 04:30 in the city (CG_TIMEZONE)


def test_dispute_numbers_run_on_within_a_month_and_start_again_in_the_next(rt):
    with rt.uow() as session:
        numbers = [new_dispute_no(session, MARCH) for _ in range(3)]
        numbers.append(new_dispute_no(session, datetime(2026, 3, 31, 17, 0, tzinfo=UTC)))  # 1 April, 01:00
    assert numbers == ["TJ-20260302-000001", "TJ-20260302-000002", "TJ-20260302-000003", "TJ-20260401-000001"]


def test_an_application_is_numbered_by_the_running_number(client, rt):
    first, second = apply(client, rt), apply(client, rt)
    assert re.fullmatch(r"TJ-\d{8}-\d{6}", first["dispute_no"])
    assert int(second["dispute_no"][-6:]) == int(first["dispute_no"][-6:]) + 1


@pytest.mark.postgres
def test_dispute_numbers_are_unique_and_increasing_under_concurrency_on_postgresql(pg_database, tmp_path):
    upgrade("mediation", pg_database)
    settings = get_settings(mode="embedded", var_dir=tmp_path, rate_limits={"dispute.apply": "1000/minute"})
    pg = SPEC.runtime(settings, pg_database)
    threads, rounds = 8, 25
    taken: dict[int, list[str]] = {i: [] for i in range(threads)}
    go = threading.Barrier(threads)

    def take(i: int) -> None:
        go.wait(10)
        for _ in range(rounds):
            with pg.uow() as session:  # each number in its own transaction, all of them at once
                taken[i].append(new_dispute_no(session, MARCH))

    try:
        workers = [threading.Thread(target=take, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        every = [n for numbers in taken.values() for n in numbers]
        assert len(every) == threads * rounds
        assert len(set(every)) == len(every), "a number was given twice"
        for numbers in taken.values():  # each caller sees them increase
            assert numbers == sorted(numbers) and len(set(numbers)) == rounds
        assert sorted(int(n[-6:]) for n in every) == list(range(1, threads * rounds + 1))  # no rollback: no gap

        # Applications at the same moment, through the API: every one filed, each with its own number.
        SPEC.seed(pg)
        client = TestClient(SPEC.app(pg))
        results: list = []

        def file() -> None:
            for _ in range(3):
                r = client.post("/mediation/v1/disputes", headers=auth(pg, RESIDENT, "resident"), json={
                    "dispute_type": "neighbour", "matter": "楼上住户夜间装修噪声，多次沟通无果。", **GRID_1,
                    "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13800000001"},
                                {"role": "respondent", "name": "王建华", "phone": "13900001111"}]})
                results.append(r)

        filers = [threading.Thread(target=file) for _ in range(4)]
        for f in filers:
            f.start()
        for f in filers:
            f.join(60)
        assert [r.status_code for r in results] == [201] * 12, [r.text for r in results if r.status_code != 201]
        assert len({r.json()["dispute_no"] for r in results}) == 12
    finally:
        pg.dispose()
