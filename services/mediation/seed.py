"""Loads the demo committees and mediators (data/committees.json, data/mediators.json), once.

A community committee's service area is its community's polygon in deploy/demo/org.geojson.
"""

import json
import uuid

from sqlalchemy import select

from shared.runtime import ServiceRuntime

from . import config
from .models import Committee, Mediator

NAMESPACE = uuid.UUID("3b0c8d4e-2a61-4f0e-b7c5-6e2f9d1a4c70")


def committee_id(code: str) -> str:
    # Stable ids: a re-seeded directory keeps references valid.
    return str(uuid.uuid5(NAMESPACE, code))


def seed(rt: ServiceRuntime) -> None:
    cfg = config.get()
    directory = cfg.committees
    features = json.loads((rt.settings.demo_dir / "org.geojson").read_text(encoding="utf-8"))["features"]
    areas = {f["properties"]["code"]: f.get("geometry") for f in features}
    with rt.uow() as session:
        if session.scalar(select(Committee.id).limit(1)):
            return
        for c in directory.community:
            geometry = areas.get(c.community_code)
            session.add(Committee(id=committee_id(c.code), code=c.code, name=c.name, kind="community",
                                  community_code=c.community_code, street_code=directory.street_code,
                                  area_geojson=json.dumps(geometry) if geometry else None,
                                  supervisor_id=c.supervisor_id, types=[]))
        for c in directory.specialised:
            session.add(Committee(id=committee_id(c.code), code=c.code, name=c.name, kind="specialised",
                                  specialty=c.specialty, types=list(c.types), street_code=directory.street_code,
                                  supervisor_id=c.supervisor_id))
        session.flush()
        for m in cfg.mediators:
            session.add(Mediator(id=m.id, name=m.name, kind=m.kind, committee_id=committee_id(m.committee),
                                 expertise=list(m.expertise), area_code=m.area_code, max_load=m.max_load,
                                 active=m.active))
