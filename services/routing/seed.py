"""Loads the demo district (deploy/demo) into routing's directory, once."""

import json
import uuid

from sqlalchemy import select

from shared.runtime import ServiceRuntime

from .models import Staff, Unit

NAMESPACE = uuid.UUID("6f1c3a52-8f0e-4f7e-9a55-0b6a8d1c2e11")


def unit_id(code: str) -> str:
    # Stable ids, so a re-seeded or re-imported directory keeps references valid.
    return str(uuid.uuid5(NAMESPACE, code))


def seed(rt: ServiceRuntime) -> None:
    demo = rt.settings.demo_dir
    features = json.loads((demo / "org.geojson").read_text(encoding="utf-8"))["features"]
    users = json.loads((demo / "users.json").read_text(encoding="utf-8"))
    with rt.uow() as session:
        if session.scalar(select(Unit.id).limit(1)):
            return
        by_code = {f["properties"]["code"]: f for f in features}

        def depth(code: str) -> int:
            parent = by_code[code]["properties"]["parent_code"]
            return 0 if parent is None else depth(parent) + 1

        for f in features:
            p = f["properties"]
            session.add(Unit(
                id=unit_id(p["code"]), code=p["code"], name=p["name"], name_en=p.get("name_en"),
                level=p["level"], kind=p.get("kind"), depth=depth(p["code"]),
                parent_id=unit_id(p["parent_code"]) if p["parent_code"] else None,
                households=p.get("households") or 0,
                geometry=json.dumps(f["geometry"]) if f.get("geometry") else None,
            ))
        for u in users:
            if u["role"] != "resident" and u.get("unit_code"):
                session.add(Staff(user_id=u["id"], name=u["name"], role=u["role"],
                                  unit_id=unit_id(u["unit_code"]), on_duty=u.get("on_duty", True)))
    rt.cache.pop("locator", None)
