"""The demo users (deploy/demo/users.json): staff sign in with their username (the id without
"u-") and the demo password, residents with their phone and an SMS code.

The demo password is set in embedded mode only, or in services mode when CG_DEMO_PASSWORDS=true
(the local launcher and the tests): a deployment never starts with a known password. The other
services seed the same demo directory themselves, so no event is needed.
"""

import json
import logging

from sqlalchemy import select

from shared.db import utcnow
from shared.keys import blind_index, data_keys
from shared.phones import normalise
from shared.runtime import ServiceRuntime

from . import api_keys, directory
from .models import User
from .passwords import hash_password

DEMO_PASSWORD = "Yulin-Demo-2026"
# The demo government system (`make api-key`): the district's 12345 platform, filing cases over Open311
# and following them, and reading the public part of the district's cases. Only its keys are stored, and
# each is shown once, so `make api-key` issues a fresh one (as the demo admin) every time it is run.
DEMO_API_CLIENT = {"name": "12345热线平台（演示）",
                   "scopes": ["cases:create", "cases:read", "cases:read_public", "hotline:import"],
                   "area_code": "510107000000000"}
DEMO_API_KEY_DAYS = 30
log = logging.getLogger(__name__)


def username_of(user_id: str) -> str:
    return user_id.removeprefix("u-")


def _untold(_payload) -> None:
    return None


def seed(rt: ServiceRuntime) -> None:
    settings = rt.settings
    users = json.loads((settings.demo_dir / "users.json").read_text(encoding="utf-8"))
    index, keys = blind_index(settings), data_keys(settings)
    password_hash = hash_password(DEMO_PASSWORD) if settings.mode == "embedded" or settings.demo_passwords else None
    if settings.mode == "services" and password_hash:
        log.warning("services mode: the demo staff are given the published demo password (CG_DEMO_PASSWORDS); "
                    "never on a system anyone else can reach")
    with rt.uow() as session:
        if session.scalar(select(User.id).limit(1)):
            return
        now = utcnow()
        for u in users:
            if u["role"] == "resident":
                phone = normalise(u["phone"], mobile=True)
                directory.create(session, _untold, kind="resident", role="resident", now=now, user_id=u["id"],
                                 display_name=u.get("name"), phone_index=index(phone, "phone"),
                                 phone_sealed=keys.seal(phone, "phone"))
            else:
                directory.create(session, _untold, kind="staff", role=u["role"], now=now, user_id=u["id"],
                                 unit_codes=[u["unit_code"]] if u.get("unit_code") else [],
                                 username=username_of(u["id"]), display_name=u.get("name"),
                                 password_hash=password_hash, password_changed_at=now if password_hash else None)


def demo_api_key(rt: ServiceRuntime) -> str:
    """A fresh key of the demo government system, issued by the demo admin; every service accepts it once
    `identity.api_key.changed` reaches it (at once in embedded mode while it runs)."""
    with rt.unit_of_work() as uow:
        issued = api_keys.issue(uow.session, uow.emit, **DEMO_API_CLIENT, expires_in_days=DEMO_API_KEY_DAYS,
                                created_by="u-admin-1", now=utcnow())
    return issued.secret
