"""Demo data: the recipient directory and the organisation tree, from deploy/demo (users.json,
org.geojson). The roster's contact details (a phone, an email) are the deployment's word: used as
given, where an email set by a person herself must first be proven (email_checks.py)."""

import json

from sqlalchemy import select

from shared.ids import unit_id
from shared.runtime import ServiceRuntime

from .config import config_of
from .directory import index_of, new_recipient, set_phone
from .models import Recipient, Unit


def seed(rt: ServiceRuntime) -> None:
    demo = rt.settings.demo_dir
    features = json.loads((demo / "org.geojson").read_text(encoding="utf-8"))["features"]
    users = json.loads((demo / "users.json").read_text(encoding="utf-8"))
    rules = config_of(rt).rules
    index = index_of(rt)
    with rt.uow() as session:
        if session.scalar(select(Recipient.user_id).limit(1)):
            return
        for f in features:
            p = f["properties"]
            session.add(Unit(id=unit_id(p["code"]), code=p["code"], name=p["name"],
                             parent_id=unit_id(p["parent_code"]) if p["parent_code"] else None))
        for u in users:
            who = new_recipient(rules, u["id"], u["role"], u.get("unit_code"))
            set_phone(who, index, u.get("phone"))
            # The roster's word, like its phones: an email it gives is verified on arrival.
            who.email = u.get("email") or None
            session.add(who)
