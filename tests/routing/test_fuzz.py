"""Routing's OpenAPI document fuzzed (tests/fuzz.py): no server error, no status the document does
not list, for a privileged role (the district's supervisor), an ordinary one (a grid worker) and one
that reads no work order (the district's operator).
Bounded: a few seconds each. (Before issue 11 it found an undocumented 404 on all 15 work-order and
staff endpoints.)"""

import pytest

from shared.auth import issue_token
from tests.fuzz import fuzz

from .conftest import DISTRICT, GRID1_CODE

WHO = {
    "supervisor": ("u-supervisor-1", "supervisor", DISTRICT),
    "grid_worker": ("u-grid-worker-001001", "grid_worker", GRID1_CODE),
    # Of the root unit, reading no work order (review of issue 11): every refusal a documented status.
    "operator": ("u-operator-1", "operator", DISTRICT),
}


@pytest.mark.parametrize("role", sorted(WHO))
def test_the_openapi_document_holds_under_fuzzing(h, role):
    uid, role, unit = WHO[role]
    h.submit()  # a work order to list, score and export
    token = {"Authorization": "Bearer " + issue_token(h.rt.settings, uid, role, unit)}
    assert fuzz(h.client.app, "/routing/openapi.json", headers_for=lambda op: token, examples=10) == []
