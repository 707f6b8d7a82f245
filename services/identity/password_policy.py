"""The rules a password must meet (data/identity.json "password"), and setting or changing one.

Checked whenever a password is set: by an admin (a new staff member, a reset) or by its owner.
A refusal is 422 `user.weak_password` with every missing point listed (in Chinese) in `detail`.
Changing one's own password needs the current one (its failures count towards the lockout like a
sign-in's) and ends the owner's other sign-ins; an admin's reset ends them all.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.uow import Emit

from . import audit, config, lockout, tokens
from .models import SignInSession, User
from .passwords import hash_password, verify

CHANGE_METHOD = "password_change"  # the audit trail's method for a check of the current password

_CLASSES = (("大写字母", str.isupper), ("小写字母", str.islower), ("数字", str.isdigit),
            ("符号", lambda ch: not ch.isalnum() and not ch.isspace()))


def weaknesses(password: str, username: str | None) -> list[str]:
    """What the password lacks, in Chinese; empty when it meets every rule."""
    policy = config.get().password
    lowered = password.lower()
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"长度至少{policy.min_length}位")
    classes = sum(1 for _, test in _CLASSES if any(test(ch) for ch in password))
    if classes < policy.min_classes:
        problems.append(f"须包含大写字母、小写字母、数字、符号中的至少{policy.min_classes}类（现有{classes}类）")
    if any(word.lower() in lowered for word in policy.forbidden if word):
        problems.append("不能使用或包含常见密码")
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append("不能包含用户名")
    return problems


def require_strong(password: str, username: str | None, field: str = "password") -> None:
    problems = weaknesses(password, username)
    if problems:
        raise ApiError(422, "user.weak_password", field=field, detail="；".join(problems))


def set_password(user: User, password: str, now: datetime, field: str = "password") -> None:
    """A new password that meets the rules; the failure count and any lock are cleared."""
    if user.kind != "staff":
        raise ApiError(422, "user.not_staff", field="user_id")
    require_strong(password, user.username, field)
    user.password_hash, user.password_changed_at, user.updated_at = hash_password(password), now, now
    lockout.reset(user)


def reset_by_admin(session: Session, emit: Emit, user: User, password: str, now: datetime) -> None:
    """An admin sets a staff member's password: every sign-in of theirs ends."""
    set_password(user, password, now)
    tokens.revoke_all(session, emit, user.id, "admin", now)


def change_own(session: Session, emit: Emit, client: audit.Client, user: User, session_id: str | None,
               current: str, new: str, now: datetime) -> None:
    """The owner changes their password: the current one first (counted like a sign-in; the
    refusal and its count are kept), then the rules; the owner's other sign-ins end."""
    if user.kind != "staff":
        raise ApiError(422, "user.not_staff", field="user_id")
    refused = lockout.refusal(session, user, None, client.ip, now)
    if refused is not None:
        audit.record(session, client, CHANGE_METHOD, refused.code, user_id=user.id)
        raise refused
    if not verify(user.password_hash, current):
        lockout.count_failure(session, user, client.ip, now)
        audit.record(session, client, CHANGE_METHOD, "user.wrong_password", user_id=user.id)
        raise ApiError(422, "user.wrong_password", field="current_password", keep=True)
    if new == current:
        raise ApiError(422, "user.weak_password", field="new_password", detail="新密码不能与当前密码相同")
    set_password(user, new, now, field="new_password")
    audit.record(session, client, CHANGE_METHOD, "ok", user_id=user.id)
    others = select(SignInSession).where(SignInSession.user_id == user.id, SignInSession.revoked_at.is_(None))
    for sess in session.scalars(others):
        if sess.id != session_id:
            tokens.revoke(session, emit, sess, "password_changed", now)
