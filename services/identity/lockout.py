"""Lockout of password checks: per account AND client address, with a ceiling per account that
slows rather than locks.

Why not one lock per account: five wrong passwords typed by anyone, from anywhere, locked the
account's owner out for fifteen minutes, again and again (a stranger needs only the username). So
the lock holds the place the failures come from, and only a flood from many places slows the
account itself:

- **Per account and address (the lock).** After `password.max_failures` consecutive failures of an
  account (or of an unknown name) from one client address, that address is locked out of that
  account for `password.lockout_minutes`: 429 `signin.locked` with Retry-After, whatever password it
  tries meanwhile. The owner signing in from elsewhere is not held back. Consecutive: counted since
  the last success from that address or the last time the password was set (an admin's reset
  unlocks every address); the Nth failure starts the lock and restarts the count.
- **Per account, every address together (the ceiling).** At most `password.account_max_failures`
  failures in any `password.account_window_minutes`: over that, attempts are answered 429
  `signin.slowed`, Retry-After until the oldest of them leaves the window. It is a rate, not a lock:
  it lasts only while the failures keep coming, from more addresses than a person has (each locks
  itself after `max_failures`), and bounds what a botnet can guess. An address the account signed in
  from successfully since its password was set is never slowed, so even a flood cannot keep the
  owner out from where she usually works; it still has its own lock.
- **Rate limits** (limits.py) stand beside both: attempts per client address and per username a
  minute, whatever their result.

Attempts refused by a lock or the ceiling are recorded (their own result) but never counted, so
they neither extend a lock nor slow anyone more. An unknown name is locked and slowed exactly like
an account (its attempts are found by the keyed hash of the name), so no answer tells whether an
account exists.

Everything is counted from the trail of attempts (`SignInAttempt`: the account, or the name's keyed
hash, the client address, the result), in the request's transaction, so every process of a
deployment decides alike. `User.failed_sign_ins` and `User.locked_until` are what an admin sees of it
(GET /users/{id}): the failures since the last success from anywhere, and the end of the latest lock
of some address. Neither decides anything.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from shared.errors import ApiError

from . import config
from .models import SignInAttempt, User

FAILED = "signin.failed"
LOCKED = "signin.locked"
SLOWED = "signin.slowed"
# The password checks that count: signing in, and the current password when changing it.
METHODS = ("password", "password_change")
FAILURES = (FAILED, "user.wrong_password")


def _whose(user: User | None, identifier_index: str | None) -> ColumnElement[bool] | None:
    """The attempts of the account tried: by its id when it exists, else by the name's keyed hash."""
    if user is not None:
        return SignInAttempt.user_id == user.id
    if identifier_index is None:
        return None
    return and_(SignInAttempt.user_id.is_(None), SignInAttempt.identifier_index == identifier_index)


def _at(ip: str | None) -> ColumnElement[bool]:
    return SignInAttempt.ip == ip if ip is not None else SignInAttempt.ip.is_(None)


def _since(session: Session, whose: ColumnElement[bool], user: User | None, ip: str | None) -> datetime | None:
    """Where this address's count of consecutive failures starts: its last success, or the last time
    the password was set, whichever is later."""
    last_ok = session.scalar(select(func.max(SignInAttempt.at)).where(
        whose, _at(ip), SignInAttempt.method.in_(METHODS), SignInAttempt.result == "ok"))
    starts = [t for t in (last_ok, user.password_changed_at if user is not None else None) if t is not None]
    return max(starts) if starts else None


def _failures(whose: ColumnElement[bool], after: datetime | None) -> list[ColumnElement[bool]]:
    where = [whose, SignInAttempt.method.in_(METHODS), SignInAttempt.result.in_(FAILURES)]
    return where + ([SignInAttempt.at > after] if after is not None else [])


def _here(session: Session, whose: ColumnElement[bool], user: User | None, ip: str | None) -> tuple[int, datetime]:
    """The consecutive failures from this address, and the time of the last."""
    count, last = session.execute(select(func.count(), func.max(SignInAttempt.at)).where(
        *_failures(whose, _since(session, whose, user, ip)), _at(ip))).one()
    return count, last


def refusal(session: Session, user: User | None, identifier_index: str | None, ip: str | None,
            now: datetime) -> ApiError | None:
    """Why this attempt is not even tried (this address is locked out of the account, or the account
    is slowed), or None to try it."""
    whose = _whose(user, identifier_index)
    if whose is None:
        return None
    policy = config.get().password
    count, last = _here(session, whose, user, ip)
    if count and count % policy.max_failures == 0:
        until = last + timedelta(minutes=policy.lockout_minutes)
        if until > now:
            return _refused(LOCKED, until, now)
    if user is not None and ip is not None and session.scalar(select(SignInAttempt.id).where(
            whose, _at(ip), SignInAttempt.method.in_(METHODS), SignInAttempt.result == "ok",
            *([SignInAttempt.at > user.password_changed_at] if user.password_changed_at else [])).limit(1)):
        return None  # where the owner signed in before: its own lock only
    window = timedelta(minutes=policy.account_window_minutes)
    start = now - window
    if user is not None and user.password_changed_at is not None:
        start = max(start, user.password_changed_at)
    # The oldest of the last `account_max_failures` failures: while it is in the window, so are they all.
    oldest = session.scalar(select(SignInAttempt.at).where(*_failures(whose, start))
                            .order_by(SignInAttempt.at.desc()).offset(policy.account_max_failures - 1).limit(1))
    if oldest is not None and oldest + window > now:
        return _refused(SLOWED, oldest + window, now)
    return None


def count_failure(session: Session, user: User | None, ip: str | None, now: datetime) -> None:
    """What an admin sees of one more failure of a known account (called before its attempt row is
    written): the failures since the last success, and the lock this one starts, if it does."""
    if user is None:
        return
    policy = config.get().password
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    count, _ = _here(session, SignInAttempt.user_id == user.id, user, ip)
    if (count + 1) % policy.max_failures == 0:
        user.locked_until = now + timedelta(minutes=policy.lockout_minutes)


def succeeded(user: User) -> None:
    """A success: no failures since (the locks of other addresses stand until they end)."""
    user.failed_sign_ins = 0


def reset(user: User) -> None:
    """The password was set: every address starts afresh (the count starts at password_changed_at)."""
    user.failed_sign_ins, user.locked_until = 0, None


def _refused(code: str, until: datetime, now: datetime) -> ApiError:
    """429 with the seconds to wait; kept, so the attempt's audit row is committed."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return ApiError(429, code, headers={"Retry-After": str(seconds)}, keep=True)
