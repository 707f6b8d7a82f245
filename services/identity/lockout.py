"""Lockout of password checks: after `password.max_failures` consecutive failures an account is
locked for `password.lockout_minutes`, whatever password is tried meanwhile (429 `signin.locked`
with Retry-After). A success resets the count.

An unknown username is locked exactly the same way, so a lockout never tells whether an account
exists. A known account counts in `User.failed_sign_ins`; an unknown username has no row, so its
count is read back from the audit trail (its failed attempts, found by the keyed hash of the name).

The rule both follow: the Nth failure (answered `signin.failed`) starts the lock and restarts the
count; attempts during the lock are refused uncounted and do not extend it. No failure is ever
recorded during a lock, so for an unknown name every Nth failed attempt started one: it is locked
when the number of its failed attempts is a positive multiple of N and the last is younger than the
lock.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import ApiError

from . import config
from .models import SignInAttempt, User

FAILED = "signin.failed"
LOCKED = "signin.locked"


def locked_until(session: Session, user: User | None, identifier_index: str | None, method: str,
                 now: datetime) -> datetime | None:
    """When the lock on this account (or unknown name) ends; None when it is not locked."""
    if user is not None:
        return user.locked_until if user.locked_until is not None and user.locked_until > now else None
    if identifier_index is None:
        return None
    policy = config.get().password
    count, last = session.execute(
        select(func.count(), func.max(SignInAttempt.at))
        .where(SignInAttempt.identifier_index == identifier_index, SignInAttempt.user_id.is_(None),
               SignInAttempt.method == method, SignInAttempt.result == FAILED)).one()
    if not count or count % policy.max_failures:
        return None
    until = last + timedelta(minutes=policy.lockout_minutes)
    return until if until > now else None


def count_failure(user: User | None, now: datetime) -> None:
    """One more failure of a known account (an unknown name's failure is its audit row)."""
    if user is None:
        return
    policy = config.get().password
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    if user.failed_sign_ins >= policy.max_failures:
        user.locked_until, user.failed_sign_ins = now + timedelta(minutes=policy.lockout_minutes), 0


def reset(user: User) -> None:
    user.failed_sign_ins, user.locked_until = 0, None


def refusal(until: datetime, now: datetime) -> ApiError:
    """429 with the seconds to wait; kept, so the attempt's audit row is committed."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return ApiError(429, LOCKED, headers={"Retry-After": str(seconds)}, keep=True)
