"""Identity's dependencies: its signing keys, the caller's client details, the signed-in user's row."""

from typing import Annotated

from fastapi import Depends, Request

from shared.deps import CurrentUser, Runtime, SessionDep
from shared.keys import SigningKeys, signing_keys

from ..audit import Client
from ..directory import by_id
from ..models import User


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
