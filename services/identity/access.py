"""Who may manage identity: the directory, the roster, passwords of others and API keys are for
admins; the sign-in audit trail for admins and supervisors."""

from shared.auth import User
from shared.errors import ApiError

AUDIT_READERS = frozenset({"admin", "supervisor"})


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise ApiError(403, "auth.forbidden")


def require_audit_reader(user: User) -> None:
    if user.role not in AUDIT_READERS:
        raise ApiError(403, "auth.forbidden")
