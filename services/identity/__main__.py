"""python -m services.identity token --role ROLE | --user USERNAME
python -m services.identity api-key

Embedded mode only: signs a demo user in (a real session of the identity service, method "demo")
and prints the access token (what `make token` runs); or issues a fresh API key of the demo government
system (seed.DEMO_API_CLIENT) and prints it (what `make api-key` runs)."""

import argparse
import sys

from sqlalchemy import select

from shared.auth import ROLES
from shared.config import get_settings
from shared.db import utcnow
from shared.keys import signing_keys
from shared.migrate import upgrade

from . import seed, tokens
from .models import User
from .service import SPEC


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.identity")
    sub = parser.add_subparsers(dest="command", required=True)
    tok = sub.add_parser("token", help="a demo user's access token (embedded mode)")
    who = tok.add_mutually_exclusive_group(required=True)
    who.add_argument("--role", choices=ROLES)
    who.add_argument("--user", help="a username, e.g. grid-worker-001001")
    sub.add_parser("api-key", help="a fresh API key of the demo government system (embedded mode)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if settings.mode != "embedded":
        raise SystemExit(f"make {args.command} works in embedded mode only; in services mode sign "
                         "in at /identity/v1/tokens/* and ask an admin for a key (POST /identity/v1/api-keys)")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade("identity", settings.database_url("identity"))
    rt = SPEC.runtime(settings)
    SPEC.seed(rt)
    if args.command == "api-key":
        secret = seed.demo_api_key(rt)
        rt.dispose()
        sys.stdout.write(secret + "\n")
        return
    with rt.uow() as session:
        query = select(User).where(User.active.is_(True))
        query = query.where(User.username == args.user) if args.user else query.where(User.role == args.role)
        user = session.scalars(query.order_by(User.created_at, User.id).limit(1)).first()
        if user is None:
            raise SystemExit(f"no active user {args.user or 'with the role ' + args.role}")
        issued = tokens.start(session, settings, signing_keys(settings), user, "demo", utcnow())
    rt.dispose()
    sys.stdout.write(issued.access_token + "\n")


if __name__ == "__main__":
    main()
