"""Who may do what at identity (tests/identity/test_access_matrix.py proves every operation):

- anyone (the credential is in the body): signing in by password, SMS code, WeChat or OIDC,
  refreshing, asking for a sign-in code, the public keys, the providers;
- the signed-in owner only (no operation names another's account or sign-in): /me, signing out,
  changing one's password, linking one's phone (and asking for its code);
- admins (403 for every other role): the directory, the roster, others' passwords, API keys;
- admins and supervisors (403 for every other role): the sign-in attempts;
- admins alone (403 for every other role): the audit trail (`audit_scope`): it tells who signed in
  when and from where, and identity holds no unit tree to limit a supervisor to her area;
- a government system's API key: /api-client;
- a client on this machine, embedded mode only (404 for anyone else): the development code inbox.

Staff of every role sign in alike; a resident has no password and links only her own phone.
Identity holds no unit tree: a supervisor of a street reads every sign-in attempt, as one of the
district does.
"""

from sqlalchemy import ColumnElement, Table, true
from sqlalchemy.orm import Session

from shared.auth import User
from shared.errors import ApiError

AUDIT_READERS = frozenset({"admin", "supervisor"})


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise ApiError(403, "auth.forbidden")


def require_audit_reader(user: User) -> None:
    if user.role not in AUDIT_READERS:
        raise ApiError(403, "auth.forbidden")


def audit_scope(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """Identity's audit trail (GET /identity/v1/audit): admins only."""
    require_admin(user)
    return true()
