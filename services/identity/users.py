"""The staff directory as admins manage it: finding users, adding staff, changing a user's role,
units, name or active flag.

Every change an other service must know (role, units, active) is announced as
`identity.user.changed` (directory.announce). A change of role or units also ends the user's
sign-ins (reason "admin"), so no token keeps privileges the user no longer has; disabling ends
them with reason "user_disabled" and refuses every token issued before it (directory.set_active).
An admin cannot disable themselves or change their own role (someone else must).
"""

import json
import re
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.auth import STAFF_ROLES
from shared.config import get_settings
from shared.errors import ApiError
from shared.uow import Emit

from . import config, directory, tokens
from .directory import units_of
from .models import User
from .password_policy import require_strong, set_password

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def normal_username(raw: str) -> str:
    """Usernames are compared lower-cased and without surrounding spaces."""
    return raw.strip().lower()


def valid_username(name: str) -> bool:
    return bool(USERNAME.fullmatch(name))


# What no name holds: control characters (C0, DEL, C1: \x00, \n, ...), lone surrogates, line and
# paragraph separators, and the bidirectional marks and overrides that make a name display as
# another's.
_NOT_IN_NAMES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NAME_MAX = 100


def plain_text(value: str) -> bool:
    return not any(unicodedata.category(c) in _NOT_IN_NAMES or c in _BIDI for c in value)


def clean_name(raw: str, field: str = "display_name", code: str = "user.bad_name") -> str:
    """A name as kept: without surrounding spaces, not blank, at most NAME_MAX characters, and
    nothing in it but printable text; otherwise 422 `code` naming the field."""
    name = raw.strip()
    if not name or len(name) > NAME_MAX or not plain_text(name):
        raise ApiError(422, code, field=field)
    return name


def valid_unit(code: str) -> bool:
    # fullmatch: the pattern's "$" would let a trailing newline through
    return bool(re.fullmatch(config.get().directory.unit_code_pattern, code))


@cache
def _units_in(path: Path) -> frozenset[str] | None:
    if not path.is_file():
        return None
    return frozenset(f["properties"]["code"] for f in json.loads(path.read_text(encoding="utf-8"))["features"])


def known_unit(code: str) -> bool:
    """A unit of the organisation: the file routing imports and every other service seeds its directory from
    (the deployment's demo_dir/org.geojson; identity keeps no copy of the tree). A well-formed code naming no
    unit ("999") gave an account, or an API key's area, a scope that matched nothing and nobody noticed.
    A deployment without the file is held to the code's form only."""
    units = _units_in(get_settings().demo_dir / "org.geojson")
    return units is None or code in units


def clean_units(codes: list[str], field: str = "unit_codes") -> list[str]:
    """Stripped, de-duplicated (the first stays first: the primary unit), each a unit of the organisation."""
    units: list[str] = []
    for code in (c.strip() for c in codes):
        if not valid_unit(code):
            raise ApiError(422, "user.bad_unit", field=field)
        if not known_unit(code):
            raise ApiError(422, "user.unknown_unit", field=field, detail=code)
        if code not in units:
            units.append(code)
    return units


def listed(session: Session, *, role: str | None = None, unit: str | None = None, active: bool | None = None,
           kind: str | None = None, page: int = 1, page_size: int = 20) -> tuple[list[User], int]:
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if kind is not None:
        query = query.where(User.kind == kind)
    if active is not None:
        query = query.where(User.active.is_(active))
    if unit is not None:
        if not valid_unit(unit):
            raise ApiError(422, "user.bad_unit", field="unit")
        # unit_codes is a JSON list of codes; a code is letters and digits only, so no LIKE wildcard.
        query = query.where(User.unit_codes.like(f'%"{unit}"%'))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    users = session.scalars(query.order_by(User.kind.desc(), User.username, User.id)
                            .offset((page - 1) * page_size).limit(page_size)).all()
    return list(users), total


def create_staff(session: Session, emit: Emit, *, username: str, display_name: str, role: str,
                 unit_codes: list[str], password: str | None, now: datetime) -> User:
    """A staff member; without a password they sign in through the identity provider, or after an
    admin sets one."""
    name = normal_username(username)
    if not valid_username(name):
        raise ApiError(422, "user.bad_username", field="username")
    display_name = clean_name(display_name)
    if role not in STAFF_ROLES:
        raise ApiError(422, "user.bad_role", field="role")
    units = clean_units(unit_codes)
    if password is not None:
        require_strong(password, name)
    user = directory.create(session, emit, kind="staff", role=role, now=now, unit_codes=units, username=name,
                            display_name=display_name)
    if password is not None:
        set_password(user, password, now)
    return user


def change(session: Session, emit: Emit, user: User, *, actor_id: str, now: datetime, role: str | None = None,
           unit_codes: list[str] | None = None, display_name: str | None = None,
           active: bool | None = None) -> frozenset[str]:
    """Applies what differs; the fields that did (empty when nothing changed). Every change but a
    new name alone is announced (identity.user.changed), and so an entry of the audit trail."""
    if display_name is not None:
        display_name = clean_name(display_name)
    if role is not None and role != user.role:
        if user.kind != "staff":
            raise ApiError(422, "user.not_staff", field="role")
        if role not in STAFF_ROLES:
            raise ApiError(422, "user.bad_role", field="role")
    units = clean_units(unit_codes) if unit_codes is not None else None
    if units is not None and units != units_of(user) and user.kind != "staff":
        raise ApiError(422, "user.not_staff", field="unit_codes")
    if user.id == actor_id and ((active is False and user.active) or (role is not None and role != user.role)):
        raise ApiError(409, "user.own_account", field="active" if active is False else "role")
    changed = set()
    if role is not None and role != user.role:
        user.role = role
        changed.add("role")
    if units is not None and units != units_of(user):
        user.unit_codes = json.dumps(units)
        changed.add("unit_codes")
    privileges = bool(changed)
    if display_name is not None and display_name != (user.display_name or ""):
        user.display_name = display_name
        changed.add("display_name")
    toggled = active is not None and active != user.active
    if toggled:
        changed.add("active")
    if not changed:
        return frozenset()
    user.updated_at = now
    if toggled:
        directory.set_active(session, emit, user, active, now)  # announces the user as it now is
    elif privileges:
        directory.announce(emit, user, now)
    if toggled and not active:
        tokens.revoke_all(session, emit, user.id, "user_disabled", now)
    elif privileges:
        tokens.revoke_all(session, emit, user.id, "admin", now)
    return frozenset(changed)
