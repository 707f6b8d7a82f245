"""Passwords: argon2id hashes (argon2-cffi, its RFC 9106 low-memory profile)."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, time 3, memory 64 MiB, parallelism 4


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when the password matches. With no hash (an unknown user), a dummy hash is checked all
    the same, so the time taken does not tell whether the account exists."""
    try:
        return hasher().verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy() -> str:
    return hasher().hash("not-a-password-of-anyone")
