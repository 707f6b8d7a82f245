"""The demo grids (deploy/demo/org.geojson, the file routing's directory is loaded from) and a few register
records of 玉林北路社区第一网格, once."""

import json
from datetime import timedelta

from sqlalchemy import select

from shared.db import utcnow
from shared.runtime import ServiceRuntime

from . import directory, register
from .models import Entry

WORKER = "u-grid-worker-001001"
GRID = "510107001001001"


def seed(rt: ServiceRuntime) -> None:
    features = json.loads((rt.settings.demo_dir / "org.geojson").read_text(encoding="utf-8"))["features"]
    with rt.unit_of_work() as uow:
        session = uow.session
        directory.load(session, features)
        if session.scalar(select(Entry.id).limit(1)):
            return
        now = utcnow() - timedelta(days=1)

        def add(kind, parent=None, **fields):
            return register.create(session, uow.emit, kind, GRID, parent, fields, WORKER, now, now)

        building = add("building", name="玉林北路2号院3栋", address="玉林北路2号院3栋", floors=7)
        home = add("household", building.id, room="2单元501", head_name="陈淑华", phone="13912340001", members=1)
        add("person", home.id, category="elderly_alone", name="陈淑华", phone="13912340001",
            address="玉林北路2号院3栋2单元501", gender="女", guardian_name="李明", guardian_phone="13912340002",
            note="83岁，独居，子女在外地，行动不便")
        rental = add("rental", building.id, room="1单元302", landlord_name="周建国", landlord_phone="13912340003",
                     rooms=2)
        add("tenant", rental.id, name="黄小川", phone="13912340004", origin="四川省南充市", moved_in="2026-09-01")
        add("organisation", name="玉林北路2号院物业服务中心", org_kind="property", address="玉林北路2号院",
            contact_name="吴经理", contact_phone="13912340005")
