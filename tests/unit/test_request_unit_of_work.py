"""A request's unit of work (shared.deps.Uow): opened in the event loop, committed in a thread of its own."""

import asyncio
import threading
from contextlib import contextmanager

import anyio
import httpx
from fastapi import FastAPI

from shared.deps import Uow


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
