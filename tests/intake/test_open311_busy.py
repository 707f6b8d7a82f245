"""A busy or database-less intake answers an Open311 client in GeoReport's own error list (the format its path
asked for), with Retry-After, where it answers intake's own clients with intake's error body."""

import asyncio
import xml.etree.ElementTree as ET

import httpx
from fastapi.testclient import TestClient

from services.intake.service import SPEC
from shared.config import get_settings
from shared.migrate import upgrade

V2 = "/open311/v2"


def full_intake(tmp_path):
    """Intake with room for one request, and an endpoint that holds that one until released."""
    url = f"sqlite:///{tmp_path / 'intake.sqlite'}"
    upgrade("intake", url)
    rt = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path, admission_limit=1), url)
    app = SPEC.app(rt)
    release, reached = asyncio.Event(), []

    async def hold() -> dict:
        reached.append(1)
        await release.wait()
        return {}

    app.add_api_route("/intake/v1/test-hold", hold, methods=["POST"])
    return rt, app, release, reached


def test_an_open311_request_refused_by_the_admission_bound_gets_the_specifications_error_list(tmp_path):
    rt, app, release, reached = full_intake(tmp_path)

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            held = asyncio.create_task(client.post("/intake/v1/test-hold"))
            while not reached:
                await asyncio.sleep(0.01)
            answers = [await client.get(f"{V2}/services.json"), await client.get(f"{V2}/services.xml"),
                       await client.get(f"{V2}/services.json", headers={"Accept-Language": "en"}),
                       await client.get("/intake/v1/cases")]
            release.set()
            await held
            answers.append(await client.get(f"{V2}/services.json"))
            return answers

    try:
        as_json, as_xml, in_english, own, after = asyncio.run(scenario())
    finally:
        rt.dispose()
    assert as_json.status_code == 503 and as_json.headers["retry-after"]
    [error] = as_json.json()
    assert error["code"] == 503 and error["description"].startswith("service.busy: ")
    assert not error["description"].isascii()  # Chinese first
    assert in_english.json()[0]["description"] == "service.busy: The service is busy: try again in a moment"
    assert as_xml.status_code == 503 and as_xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(as_xml.content)
    assert root.tag == "errors" and root.find("error/code").text == "503"
    assert own.status_code == 503 and own.json()["error"]["code"] == "service.busy"  # intake's own clients
    assert after.status_code == 200


def test_an_open311_request_meeting_the_database_away_gets_a_503_in_the_specifications_format(tmp_path):
    rt = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path), "postgresql+psycopg://postgres@127.0.0.1:1/x")
    try:
        client = TestClient(SPEC.app(rt), raise_server_exceptions=False)
        r = client.get(f"{V2}/services.json")
        x = client.get(f"{V2}/services.xml")
    finally:
        rt.dispose()
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()[0]["code"] == 503 and r.json()[0]["description"].startswith("service.database_unavailable: ")
    assert x.status_code == 503 and ET.fromstring(x.content).find("error/code").text == "503"
