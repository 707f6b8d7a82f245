"""Who may do what at identity (tests/identity/test_access_matrix.py proves every operation):

- anyone (the credential is in the body): signing in by password, SMS code, WeChat or OIDC,
  refreshing, asking for a sign-in code, the public keys, the providers;
- the signed-in owner only (no operation names another's account or sign-in): /me, signing out,
  changing one's password, linking one's phone (and asking for its code);
- admins (403 for every other role): the directory, the roster, others' passwords, API keys;
- admins and supervisors (403 for every other role): the sign-in attempts, the audit trail;
- a government system's API key: /api-client;
- a client on this machine, embedded mode only (404 for anyone else): the development code inbox.

Staff of every role sign in alike; a resident has no password and links only her own phone.
Identity holds no unit tree: an admin or supervisor of a street reads the whole directory and
trail, as one of the district does.
"""

from shared.auth import User
from shared.errors import ApiError

AUDIT_READERS = frozenset({"admin", "supervisor"})


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise ApiError(403, "auth.forbidden")


def require_audit_reader(user: User) -> None:
    if user.role not in AUDIT_READERS:
        raise ApiError(403, "auth.forbidden")
