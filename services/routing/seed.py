"""Loads the demo district (deploy/demo) into routing's directory, once, and the shipped
responsibility list as its first version."""

import json

from sqlalchemy import select

from shared.db import utcnow
from shared.ids import unit_id
from shared.runtime import ServiceRuntime

from . import config, responsibility
from .models import ResponsibilityVersion, Staff, Unit


def seed(rt: ServiceRuntime) -> None:
    demo = rt.settings.demo_dir
    features = json.loads((demo / "org.geojson").read_text(encoding="utf-8"))["features"]
    users = json.loads((demo / "users.json").read_text(encoding="utf-8"))
    types = config.get().demo_unit_types.unit_types
    with rt.uow() as session:
        if session.scalar(select(Unit.id).limit(1)):
            return
        by_code = {f["properties"]["code"]: f for f in features}

        def chain(code: str) -> list[str]:
            parent = by_code[code]["properties"]["parent_code"]
            return [code] if parent is None else [*chain(parent), code]

        for f in features:
            p = f["properties"]
            codes = chain(p["code"])
            session.add(Unit(
                id=unit_id(p["code"]), code=p["code"], name=p["name"], name_en=p.get("name_en"),
                level=p["level"], kind=p.get("kind"), unit_type=p.get("unit_type") or types.get(p["code"]),
                depth=len(codes) - 1, path="/" + "/".join(codes) + "/",
                parent_id=unit_id(p["parent_code"]) if p["parent_code"] else None,
                households=p.get("households") or 0,
                geometry=json.dumps(f["geometry"]) if f.get("geometry") else None,
            ))
        for u in users:
            if u["role"] != "resident" and u.get("unit_code"):
                session.add(Staff(user_id=u["id"], name=u["name"], role=u["role"],
                                  unit_id=unit_id(u["unit_code"]), on_duty=u.get("on_duty", True)))
        session.flush()
        if session.scalar(select(ResponsibilityVersion.version).limit(1)) is None:
            responsibility.publish(session, config.default_document(), created_by="seed", note="示范职责清单",
                                   now=utcnow())
    rt.cache.pop("locator", None)
