"""Bearer JWTs carrying the user id and role.

`python -m shared.auth token --role resident` prints a token for the demo user of a role.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .config import Settings, get_settings
from .errors import ApiError

ROLES = (
    "resident",
    "operator",
    "grid_worker",
    "community_staff",
    "street_dispatcher",
    "department_handler",
    "mediator",
    "supervisor",
    "admin",
)
STAFF_ROLES = frozenset(ROLES) - {"resident"}


@dataclass(frozen=True)
class User:
    id: str
    role: str
    unit_code: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def issue_token(settings: Settings, user_id: str, role: str, unit_code: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "role": role,
        "unit": unit_code,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + timedelta(seconds=settings.token_ttl_seconds),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def decode_token(settings: Settings, token: str) -> User:
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], issuer=settings.jwt_issuer,
                            options={"require": ["sub", "role", "exp"]})
    except jwt.PyJWTError:
        raise ApiError(401, "auth.invalid_token") from None
    if claims["role"] not in ROLES:
        raise ApiError(401, "auth.invalid_token")
    return User(id=claims["sub"], role=claims["role"], unit_code=claims.get("unit"))


_bearer = HTTPBearer(auto_error=False, description="`make token ROLE=<role>` prints one for a demo user")


def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None:
        raise ApiError(401, "auth.missing_token")
    return decode_token(request.app.state.settings, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require_staff(user: CurrentUser) -> User:
    if not user.is_staff:
        raise ApiError(403, "auth.forbidden")
    return user


StaffUser = Annotated[User, Depends(require_staff)]


def demo_users(settings: Settings) -> list[dict]:
    return json.loads((settings.demo_dir / "users.json").read_text(encoding="utf-8"))


def demo_token(settings: Settings, role: str) -> str:
    for user in demo_users(settings):
        if user["role"] == role:
            return issue_token(settings, user["id"], role, user.get("unit_code"))
    raise SystemExit(f"no demo user has the role {role!r}; roles: {', '.join(ROLES)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.auth")
    sub = parser.add_subparsers(dest="command", required=True)
    tok = sub.add_parser("token", help="print a bearer token for the demo user of a role")
    tok.add_argument("--role", required=True, choices=ROLES)
    args = parser.parse_args(argv)
    sys.stdout.write(demo_token(get_settings(), args.role) + "\n")


if __name__ == "__main__":
    main()
