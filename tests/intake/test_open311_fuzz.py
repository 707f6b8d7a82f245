"""The Open311 operations of intake's OpenAPI document fuzzed with a key of every scope (tests/fuzz.py), so
the fuzzing goes past the key into the parsing of forms, filters and dates: no server error and no status
the document does not list. (test_fuzz.py fuzzes the same operations with people's tokens: a key's 403.)"""

import pytest

from tests.fuzz import fuzz

from .test_open311_world import ALL_READ, issue, open311_intake


@pytest.fixture
def o311(tmp_path):
    yield from open311_intake(tmp_path)


def test_fuzzing_the_open311_operations_with_a_key_finds_no_server_error_and_no_undocumented_status(o311):
    key = issue(o311, ALL_READ)
    failures = fuzz(o311.client.app, "/intake/openapi.json", headers_for=lambda op: {"X-API-Key": key},
                    examples=25, skip=lambda op: not op.path.startswith("/open311/"))
    assert failures == [], "\n".join(failures)
