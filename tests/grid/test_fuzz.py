"""The grid service's OpenAPI document fuzzed (bounded): no server error and no undocumented status, as the grid
worker (who writes) and as an admin (who reads everything, masked)."""

import pytest

from services.grid.service import SPEC
from tests.fuzz import fuzz

from .conftest import WORKER, auth


@pytest.mark.parametrize("who", [WORKER, "u-admin-1"], ids=["worker", "admin"])
def test_fuzzing_finds_no_server_error_and_no_undocumented_status(rt, who):
    headers = auth(rt, who)
    assert fuzz(SPEC.app(rt), "/grid/openapi.json", headers_for=lambda op: headers, examples=10) == []
