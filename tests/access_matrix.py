"""The role × endpoint × ownership matrix every service proves: its table names every operation of
its OpenAPI document, so an endpoint added without a rule fails the suite.

    RULES = {"GET /routing/v1/work-orders/{order_id}": {...}, ...}
    def test_every_endpoint_has_a_rule(app): assert_every_operation_has_a_rule(app, RULES)
"""

SKIPPED = ("/healthz", "/readyz", "/docs", "/openapi.json")


def operations(app) -> set[str]:
    """Every operation of the service's document, as "METHOD /path"."""
    found = set()
    for path, methods in app.openapi()["paths"].items():
        if path.endswith(SKIPPED):
            continue
        found |= {f"{method.upper()} {path}" for method in methods}
    return found


def assert_every_operation_has_a_rule(app, rules) -> None:
    ops = operations(app)
    missing, stale = sorted(ops - set(rules)), sorted(set(rules) - ops)
    assert not missing, f"endpoints without an access rule in the matrix: {missing}"
    assert not stale, f"rules for endpoints that no longer exist: {stale}"
