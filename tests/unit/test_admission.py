"""Admission control (shared/admission.py): a bounded number of requests in flight per API process, the
rest refused at once with 503 service.busy and Retry-After."""

import asyncio
import time

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.admission import Admission
from shared.config import Settings


def held_app(limit: int) -> tuple[FastAPI, asyncio.Event, list[str]]:
    """An app whose /work requests wait until `release` is set; `reached` lists those that got in."""
    app = FastAPI()
    release, reached = asyncio.Event(), []

    @app.post("/intake/v1/work")
    async def work() -> dict:
        reached.append("in")
        await release.wait()
        return {"ok": True}

    @app.get("/intake/readyz")
    async def readyz() -> dict:
        return {"status": "ready"}

    app.add_middleware(Admission, limit=limit, retry_after=2, service="intake")
    return app, release, reached


def run(coro):
    return asyncio.run(coro)


def test_beyond_the_bound_a_request_is_refused_at_once_with_retry_after_a_chinese_body_and_no_effect():
    async def scenario():
        app, release, reached = held_app(limit=2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            held = [asyncio.create_task(client.post("/intake/v1/work")) for _ in range(2)]
            while len(reached) < 2:
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            refused = await client.post("/intake/v1/work")
            took = time.perf_counter() - started
            english = await client.post("/intake/v1/work", headers={"Accept-Language": "en"})
            ready = await client.get("/intake/readyz")  # probes pass while the process is full
            release.set()
            answered = await asyncio.gather(*held)
            after = await client.post("/intake/v1/work")  # room again once the others are done
        return refused, took, english, ready, answered, after, reached

    refused, took, english, ready, answered, after, reached = run(scenario())
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    error = refused.json()["error"]
    assert error == {"code": "service.busy", "message": "系统繁忙，请稍后重试", "field": None}  # any service's words
    # byte for byte as every other error answer is serialised (starlette's JSONResponse)
    assert refused.content == JSONResponse(refused.json()).body
    assert english.json()["error"]["message"] == "The service is busy: try again in a moment"
    assert took < 0.5  # answered, not queued behind the requests in flight
    assert len(reached) == 3  # the refused ones never reached the endpoint: the two held, then `after`
    assert ready.status_code == 200
    assert [r.status_code for r in answered] == [200, 200] and after.status_code == 200


def test_a_bound_of_zero_admits_everything():
    async def scenario():
        app, release, reached = held_app(limit=0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            held = [asyncio.create_task(client.post("/intake/v1/work")) for _ in range(30)]
            while len(reached) < 30:
                await asyncio.sleep(0.01)
            release.set()
            return await asyncio.gather(*held)

    assert all(r.status_code == 200 for r in run(scenario()))


def test_every_service_app_is_bounded_by_the_typed_setting(monkeypatch):
    from shared.runtime import build_runtime
    from shared.web import create_app

    monkeypatch.setenv("CG_ADMISSION_LIMIT", "7")
    settings = Settings()
    assert settings.admission_limit == 7 and settings.admission_retry_after_seconds == 1
    from services.intake.service import SPEC

    rt = build_runtime("intake", settings, SPEC.outbox, SPEC.inbox, "sqlite://", SPEC.audit)
    app = create_app(rt, title="t", description="d", router=SPEC.router)
    bound = [m for m in app.user_middleware if m.cls is Admission]
    assert len(bound) == 1 and bound[0].kwargs["limit"] == 7
