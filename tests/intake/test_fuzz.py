"""Intake's OpenAPI document fuzzed (tests/fuzz.py): no server error and no status it does not list,
for an admin (every case in scope) and a resident (her own). Publishing the catalogue takes a whole
category tree, slow to generate: it gets a few examples of its own."""

from tests.fuzz import fuzz


def _publishing(op) -> bool:
    return op.method.upper() == "PUT" and op.path.endswith("/catalogue")


def test_fuzzing_every_operation_finds_no_server_error_and_no_undocumented_status(intake):
    app, path = intake.client.app, "/intake/openapi.json"
    admin, resident = intake.auth("admin"), intake.auth("resident", phone="13812345678")
    failures = []
    for headers in (admin, resident):
        failures += fuzz(app, path, headers_for=lambda op, h=headers: h, examples=12, skip=_publishing)
    failures += fuzz(app, path, headers_for=lambda op: admin, examples=3, skip=lambda op: not _publishing(op))
    assert failures == [], "\n".join(failures)


def test_fuzzing_the_platform_import_with_its_key_finds_no_server_error_and_no_undocumented_status(tmp_path):
    """The import and its read-back fuzzed past the key (with the admin's token above they stop at 401): rows of
    every shape the document allows, order numbers of every form."""
    from .test_open311_world import issue, open311_intake

    for platform in open311_intake(tmp_path):
        key = {"X-API-Key": issue(platform, ["hotline:import"])}
        failures = fuzz(platform.client.app, "/intake/openapi.json", headers_for=lambda op, k=key: k, examples=25,
                        skip=lambda op: "/hotline/orders" not in op.path)
        assert failures == [], "\n".join(failures)
