"""The user directory: creating, changing and disabling users, each change told to every service
(`identity.user.changed`: routing keeps its staff, notify its recipients, everyone revokes a
disabled user's tokens)."""

import json
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import ROLES
from shared.auth_state import record_revocation
from shared.errors import ApiError
from shared.events.identity import UserChanged
from shared.uow import Emit

from .models import User, auth


def units_of(user: User) -> list[str]:
    return json.loads(user.unit_codes or "[]")


def announce(emit: Emit, user: User, now: datetime) -> None:
    emit(UserChanged(user_id=user.id, kind=user.kind, role=user.role, unit_codes=units_of(user), active=user.active,
                     at=now))


def create(session: Session, emit: Emit, *, kind: str, role: str, now: datetime, unit_codes: list[str] | None = None,
           username: str | None = None, display_name: str | None = None, user_id: str | None = None,
           **fields) -> User:
    if role not in ROLES:
        raise ApiError(422, "user.bad_role", field="role")
    if username is not None and session.scalar(select(User.id).where(User.username == username)):
        raise ApiError(409, "user.username_taken", field="username")
    user = User(id=user_id or f"u-{uuid.uuid4()}", kind=kind, role=role, unit_codes=json.dumps(unit_codes or []),
                username=username, display_name=display_name, active=True, failed_sign_ins=0, created_at=now,
                updated_at=now, **fields)
    session.add(user)
    session.flush()
    announce(emit, user, now)
    return user


def set_active(session: Session, emit: Emit, user: User, active: bool, now: datetime) -> None:
    """Disabling: no more sign-ins or refreshes here, and every token already issued is refused by
    every service as soon as it has the event (here at once)."""
    if user.active == active:
        return
    user.active, user.updated_at = active, now
    if not active:
        record_revocation(session, auth, "user", user.id, now)
    announce(emit, user, now)


def by_id(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(404, "user.not_found", field="user_id")
    return user
