"""Mediation's OpenAPI document fuzzed (bounded): no server error, and no status the document does not list,
as a committee's head (privileged) and as a resident who is a party (ordinary).

A random dispute id only ever meets the 404 of the access check, before the body and the other parameters
are read; so every request is sent to a real dispute (a fresh one for each operation, accepted, of which the
head heads the committee and the resident is the applicant): the generated bodies, queries and other ids
reach the endpoints themselves."""

import pytest
from fastapi.testclient import TestClient

from services.mediation.service import SPEC
from tests.fuzz import fuzz

from .conftest import auth, runtime_for
from .helpers import CHAIR, RESIDENT, accepted

PREFIX = ["", "mediation", "v1", "disputes"]


class OnRealDispute:
    """The service, with the dispute id of every /disputes/{dispute_id}/... path replaced by a real one."""

    def __init__(self, app):
        self.app, self.dispute_id = app, None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.dispute_id:
            parts = scope["path"].split("/")
            if len(parts) > 4 and parts[:4] == PREFIX:
                parts[4] = self.dispute_id
                path = "/".join(parts)
                scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


@pytest.fixture
def rt(tmp_path):
    # A dispute for each operation, all applied for by the same resident from one address: the fuzzing is not about
    # the limit.
    runtime = runtime_for(tmp_path, rate_limits={"dispute.apply": "100000/day", "dispute.apply.address": "100000/hour"})
    yield runtime
    runtime.dispose()


@pytest.fixture
def client(rt):
    return TestClient(SPEC.app(rt))


@pytest.mark.parametrize("who", [(CHAIR, "mediator"), (RESIDENT, "resident")], ids=["head", "party"])
def test_fuzzing_finds_no_server_error_and_no_undocumented_status(client, rt, who):
    app = OnRealDispute(client.app)
    headers = auth(rt, *who)

    def fresh_dispute(operation) -> dict:
        # Only an operation on a dispute gets one: the demo committee's mediators take a bounded load.
        if operation.path.startswith("/mediation/v1/disputes/{"):
            app.dispute_id = accepted(client, rt)["id"]
        return headers

    assert fuzz(app, "/mediation/openapi.json", headers_for=fresh_dispute, examples=10) == []
