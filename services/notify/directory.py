"""The recipient directory: who a user id is on each channel, and who supervises a unit.

Seeded from the demo users (deploy/demo/users.json) and the demo organisation; contact details
are notify's own data, changed by their owners through the API.
"""

import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.ids import unit_id
from shared.runtime import ServiceRuntime

from .models import Recipient, Unit

DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def rules() -> dict:
    return json.loads((DATA / "rules.json").read_text(encoding="utf-8"))


def default_channels(role: str) -> list[str]:
    defaults = rules()["default_channels"]
    return list(defaults["resident" if role == "resident" else "staff"])


def seed(rt: ServiceRuntime) -> None:
    demo = rt.settings.demo_dir
    features = json.loads((demo / "org.geojson").read_text(encoding="utf-8"))["features"]
    users = json.loads((demo / "users.json").read_text(encoding="utf-8"))
    with rt.uow() as session:
        if session.scalar(select(Recipient.user_id).limit(1)):
            return
        for f in features:
            p = f["properties"]
            session.add(Unit(id=unit_id(p["code"]), code=p["code"], name=p["name"],
                             parent_id=unit_id(p["parent_code"]) if p["parent_code"] else None))
        for u in users:
            session.add(Recipient(
                user_id=u["id"], role=u["role"], unit_id=unit_id(u["unit_code"]) if u.get("unit_code") else None,
                phone=u.get("phone"), lang="zh", channels=json.dumps(default_channels(u["role"])),
                opt_outs="[]", quiet_start="22:00", quiet_end="07:00", timezone="Asia/Shanghai",
                sms_daily_limit=10, updated_at=utcnow(),
            ))


def staff_of(session: Session, unit_ids: list[str]) -> list[str]:
    if not unit_ids:
        return []
    rows = session.scalars(select(Recipient.user_id).where(Recipient.unit_id.in_(unit_ids),
                                                           Recipient.role != "resident"))
    return sorted(rows)


def supervisors_of(session: Session, unit: str | None) -> list[str]:
    """The staff with a supervising role in the nearest unit above `unit` that has any."""
    roles = rules()["supervisor_roles"]
    seen = set()
    current = session.get(Unit, unit) if unit else None
    while current is not None and current.parent_id and current.parent_id not in seen:
        seen.add(current.parent_id)
        found = session.scalars(select(Recipient.user_id).where(
            Recipient.unit_id == current.parent_id, Recipient.role.in_(roles))).all()
        if found:
            return sorted(found)
        current = session.get(Unit, current.parent_id)
    return []
