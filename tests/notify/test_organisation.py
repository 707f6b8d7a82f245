"""Notify's organisation tree, read from the same organisation file routing imports."""

import json
import shutil

from services.notify.models import Unit
from services.notify.service import SPEC
from services.routing.models import Unit as RoutingUnit
from shared.config import get_settings
from shared.ids import unit_id
from shared.migrate import upgrade

DISTRICT = "510107000000000"


def test_a_unit_code_as_long_as_routing_keeps_is_loaded_on_postgresql(pg_database, tmp_path):
    """Routing keeps unit codes in 32 characters (levels.json code_pattern); notify kept 20, which only
    PostgreSQL enforced: such an organisation could not be loaded."""
    demo = tmp_path / "demo"
    shutil.copytree(get_settings().demo_dir, demo)
    org = json.loads((demo / "org.geojson").read_text(encoding="utf-8"))
    longest = "5" * RoutingUnit.__table__.c.code.type.length
    org["features"].append({"type": "Feature", "geometry": None,
                            "properties": {"code": longest, "name": "某区某局", "level": "department",
                                           "parent_code": DISTRICT, "households": 0, "kind": "department"}})
    (demo / "org.geojson").write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    upgrade("notify", pg_database)
    rt = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path, demo_dir=demo), pg_database)
    try:
        SPEC.seed(rt)
        with rt.uow() as session:
            assert session.get(Unit, unit_id(longest)).code == longest
    finally:
        rt.dispose()
