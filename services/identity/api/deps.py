"""Identity's dependencies: its signing keys, the caller's client details, the signed-in user's row."""

from typing import Annotated

from fastapi import Depends, Path, Request

from shared.deps import CurrentUser, Runtime, SessionDep
from shared.deps import User as SignedIn
from shared.keys import BlindIndex, DataKeys, SigningKeys, blind_index, data_keys, signing_keys

from .. import access
from ..audit import Client
from ..directory import by_id
from ..models import User

# The last page a list may be asked for: the offset it makes stays far within what a database
# takes (a page of 10^20 overflows SQLite's integers).
MAX_PAGE = 100_000

# What an id may hold: ids are made here ("u-" and a UUID, a demo user's name), and a string outside
# this set (a NUL byte, which PostgreSQL refuses in any text) is refused with 422 before any query.
ID_PATTERN = r"^[A-Za-z0-9._:@-]+$"
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="用户编号 the user's id")]


def get_keys(rt: Runtime) -> SigningKeys:
    keys = rt.cache.get("identity.keys")
    if keys is None:
        keys = rt.cache["identity.keys"] = signing_keys(rt.settings)
    return keys


Keys = Annotated[SigningKeys, Depends(get_keys)]


def get_client(request: Request) -> Client:
    return Client.of(request)


ClientDep = Annotated[Client, Depends(get_client)]


def me(user: CurrentUser, session: SessionDep) -> User:
    return by_id(session, user.id)


MeDep = Annotated[User, Depends(me)]


def admin_user(user: CurrentUser) -> SignedIn:
    access.require_admin(user)
    return user


# Admins only: the directory, the roster, others' passwords, API keys.
AdminUser = Annotated[SignedIn, Depends(admin_user)]


def audit_reader(user: CurrentUser) -> SignedIn:
    access.require_audit_reader(user)
    return user


# Admins and supervisors: the sign-in audit trail.
AuditReader = Annotated[SignedIn, Depends(audit_reader)]


def get_index(rt: Runtime) -> BlindIndex:
    index = rt.cache.get("identity.index")
    if index is None:
        index = rt.cache["identity.index"] = blind_index(rt.settings)
    return index


# The keyed hash that finds a phone (or a code, an address) without storing it readable.
Index = Annotated[BlindIndex, Depends(get_index)]


def get_data_keys(rt: Runtime) -> DataKeys:
    keys = rt.cache.get("identity.data_keys")
    if keys is None:
        keys = rt.cache["identity.data_keys"] = data_keys(rt.settings)
    return keys


# The keys that seal personal data at rest and for notify (a phone, a code to send).
Sealing = Annotated[DataKeys, Depends(get_data_keys)]
