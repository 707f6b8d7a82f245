"""Selfgov's OpenAPI document fuzzed (bounded): no server error, and no status the document does not list, as
the community's staff (who manage) and as the resident who raised the matter.

A random matter id only meets the 404 of the access check; so every /matters/{matter_id}/... request is sent
to a real matter on the agenda (a fresh one for each operation), and generated bodies reach the endpoints."""

import pytest

from tests.fuzz import fuzz

from .conftest import auth, staff
from .helpers import RESIDENT, on_agenda

PREFIX = ["", "selfgov", "v1", "matters"]


class OnRealMatter:
    """The service, with the matter id of every /matters/{matter_id}/... path replaced by a real one."""

    def __init__(self, app):
        self.app, self.matter_id = app, None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.matter_id:
            parts = scope["path"].split("/")
            if len(parts) > 4 and parts[:4] == PREFIX:
                parts[4] = self.matter_id
                path = "/".join(parts)
                scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


@pytest.mark.parametrize("who", ["staff", "raiser"])
def test_fuzzing_finds_no_server_error_and_no_undocumented_status(client, rt, who):
    app = OnRealMatter(client.app)
    headers = staff(rt) if who == "staff" else auth(rt, RESIDENT)

    def fresh_matter(operation) -> dict:
        app.matter_id = on_agenda(client, rt)
        return headers

    assert fuzz(app, "/selfgov/openapi.json", headers_for=fresh_matter, examples=10) == []
