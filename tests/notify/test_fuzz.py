"""Notify's OpenAPI document fuzzed (issue 11): no server error, no status the document does not
list, for a privileged and an ordinary role (bounded: a few seconds)."""

from tests.fuzz import fuzz

from .conftest import auth

EXAMPLES = 15


def test_no_server_error_and_no_undocumented_status_for_an_admin_and_a_resident(rt, client):
    # Names resolve to nothing here (conftest.no_dns): a fuzzed webhook URL never reaches a DNS server.
    principals = {"admin": auth(rt, "u-admin-1", "admin", "510107000000000"),
                  "resident": auth(rt, "u-resident-1", phone="13800000001")}
    failures = []
    for name, headers in principals.items():
        found = fuzz(client.app, "/notify/openapi.json", headers_for=lambda op, h=headers: h, examples=EXAMPLES)
        failures += [f"{name}: {f}" for f in found]
    assert failures == []
