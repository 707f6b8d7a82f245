"""Abuse controls: how often one user or one address may do a costly or sensitive thing.

    @router.post("/cases", dependencies=[limit("case.submit", "20/minute", per="user")])

A moving window per (name, key), counted in Redis in services mode (every process of every
service shares it: CG_REDIS_URL) and in memory in embedded mode (one process). Over the limit:
429 `rate.limited` with Retry-After. A deployment changes a limit without a release:
CG_RATE_LIMITS='{"case.submit": "60/minute"}'. If Redis cannot be reached the request is let
through (and logged): a broken counter must not close the door on every resident.
"""

import logging
import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from .auth import CurrentUser
from .config import Settings
from .errors import ApiError

log = logging.getLogger(__name__)


class Limiter:
    def __init__(self, settings: Settings):
        self.overrides = settings.rate_limits
        # One deployment's counts apart from another's on a shared Redis (a test cluster's from the
        # last run's): keyed under the deployment's database prefix.
        storage = RedisStorage(settings.redis_url, key_prefix=f"LIMITS:{settings.db_prefix}") \
            if settings.mode == "services" else MemoryStorage()
        self.strategy = MovingWindowRateLimiter(storage)

    def hit(self, name: str, default: str, key: str) -> None:
        item = parse(self.overrides.get(name, default))
        try:
            allowed = self.strategy.hit(item, name, key)
            if allowed:
                return
            stats = self.strategy.get_window_stats(item, name, key)
        except Exception as exc:  # the counter is down: let the request through, say so
            log.warning("rate limit %s not checked: %s", name, type(exc).__name__)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(429, "rate.limited", detail=name, headers={"Retry-After": str(wait)})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_limiter(request: Request) -> Limiter:
    return request.app.state.limiter


LimiterDep = Annotated[Limiter, Depends(get_limiter)]


def limit(name: str, default: str, *, per: str = "user"):
    """A dependency counting this request against `name`: per signed-in user (the request must be
    signed in), per client address, or both. For another key (a phone number), call
    `Limiter.hit` from the endpoint with `LimiterDep`."""
    if per == "address":
        def by_address(request: Request, limiter: LimiterDep) -> None:
            limiter.hit(name, default, f"a:{client_address(request)}")

        return Depends(by_address)

    def by_user(request: Request, limiter: LimiterDep, user: CurrentUser) -> None:
        limiter.hit(name, default, f"u:{user.id}")
        if per == "both":
            limiter.hit(name, default, f"a:{client_address(request)}")

    return Depends(by_user)
