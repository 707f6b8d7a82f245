"""A request's unit of work (shared.deps.Uow): opened in the event loop, committed in a thread of its own, or in the
thread its work ran in (shared.deps.InThread)."""

import asyncio
import threading
from contextlib import contextmanager

import anyio
import httpx
from fastapi import FastAPI

from shared import errors
from shared.deps import InThreadDep, Uow
from shared.errors import ApiError


class LockingRuntime:
    """Stands in for a service's runtime: each unit of work's COMMIT releases the "row lock" its endpoint took,
    as PostgreSQL releases a SELECT … FOR UPDATE."""

    def __init__(self):
        self.row = threading.Lock()
        self.committed = 0

    @contextmanager
    def unit_of_work(self, *_args, **_kwargs):
        yield self
        self.committed += 1
        if self.row.locked():
            self.row.release()


def locking_app() -> tuple[FastAPI, LockingRuntime]:
    rt = LockingRuntime()
    app = FastAPI()
    app.state.runtime = rt

    # No response model: validating one is a hop of its own in the shared pool, which this test is not about.
    @app.post("/rows/1")
    def update_row(uow: Uow):
        uow.row.acquire()  # waits, holding a thread of the pool, until the holder's transaction commits
        return {"ok": True}

    return app, rt


def test_a_commit_never_waits_for_a_thread_held_by_requests_waiting_on_its_locks():
    """Three requests for one row, two threads: the first holds the lock until its COMMIT, the other two hold
    both threads waiting for it. Committed in the shared pool, the first would wait for a thread forever."""
    app, rt = locking_app()

    async def three_at_once() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2  # this event loop's pool
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            calls = [client.post("/rows/1", headers={"X-Request-ID": f"r{i}"}) for i in range(3)]
            answers = await asyncio.wait_for(asyncio.gather(*calls), timeout=10)
        return [a.status_code for a in answers]

    assert asyncio.run(three_at_once()) == [200, 200, 200]
    assert rt.committed == 3


class RecordingRuntime:
    """Stands in for a service's runtime: records in which thread each unit of work ended, and how."""

    def __init__(self, fail_commit: bool = False):
        self.fail_commit = fail_commit
        self.ends: list[tuple[str, int]] = []
        self.work_thread: int | None = None
        self.ended_when_work_returned: list[tuple[str, int]] | None = None

    @contextmanager
    def unit_of_work(self, *_args, **_kwargs):
        try:
            yield self
        except BaseException:
            self.ends.append(("rollback", threading.get_ident()))
            raise
        if self.fail_commit:
            self.ends.append(("failed commit", threading.get_ident()))
            raise ConnectionError("the COMMIT's answer was lost")
        self.ends.append(("commit", threading.get_ident()))


def one_thread_app(rt: RecordingRuntime) -> FastAPI:
    app = FastAPI()
    app.state.runtime = rt
    errors.install(app)

    def work(uow: RecordingRuntime, refuse: bool) -> dict:
        uow.work_thread = threading.get_ident()
        if refuse:
            raise ApiError(409, "conflict")
        return {"ok": True}

    @app.post("/things/twice")
    async def add_two_things(uow: Uow, in_thread: InThreadDep):
        await in_thread(work, uow, False)
        return await in_thread(work, uow, False)

    @app.post("/things")
    async def add_thing(uow: Uow, in_thread: InThreadDep, refuse: bool = False):
        answer = await in_thread(work, uow, refuse)
        uow.ended_when_work_returned = list(uow.ends)
        return answer

    return app


def post(app: FastAPI, path: str) -> int:
    async def call() -> int:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.post(path, headers={"X-Request-ID": "r1"})).status_code

    return asyncio.run(call())


def test_work_in_one_thread_is_committed_in_that_thread_before_it_returns_to_the_event_loop():
    rt = RecordingRuntime()
    assert post(one_thread_app(rt), "/things") == 200
    # Committed in the thread that did the work, before it came back (no second hop to commit), and only once.
    assert rt.ended_when_work_returned == [("commit", rt.work_thread)]
    assert rt.ends == [("commit", rt.work_thread)]


def test_a_refusal_raised_by_the_work_is_rolled_back_not_committed():
    rt = RecordingRuntime()
    assert post(one_thread_app(rt), "/things?refuse=true") == 409
    assert [how for how, _ in rt.ends] == ["rollback"]


def test_a_commit_that_fails_in_the_work_thread_is_not_answered_as_success_nor_ended_twice():
    rt = RecordingRuntime(fail_commit=True)
    assert post(one_thread_app(rt), "/things") == 500
    assert rt.ends == [("failed commit", rt.work_thread)]


def test_work_after_the_commit_is_refused_not_silently_left_uncommitted():
    rt = RecordingRuntime()
    assert post(one_thread_app(rt), "/things/twice") == 500
    assert [how for how, _ in rt.ends] == ["commit"]  # the first work's; the second's is a fault, not a success
