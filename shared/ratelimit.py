"""Abuse controls: how often one user or one address may do a costly or sensitive thing.

    @router.post("/cases", dependencies=[limit("case.submit", "20/minute", per="user")])

A moving window per (name, key), counted in Redis in services mode (every process of every
service shares it: CG_REDIS_URL) and in memory in embedded mode (one process). Over the limit:
429 `rate.limited` with Retry-After. A deployment changes a limit without a release:
CG_RATE_LIMITS='{"case.submit": "60/minute"}'. If Redis cannot be reached the request is let
through (and logged): a broken counter must not close the door on every resident.

Two kinds of limit. Most count every attempt (`hit`): a guessed password or code is the very thing
limited. A quota of work done (cases filed, ledgers exported) counts only what was done (`check` before,
`count` after, or `limit(..., counts="done")`): a resident whose map point was refused twenty times must
not find her next, correct report refused for an hour.
"""

import logging
import math
import time
from collections.abc import Iterator
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
        """Count this attempt; 429 if it is one too many."""
        self._ask(name, default, key, self.strategy.hit)

    def check(self, name: str, default: str, key: str) -> None:
        """429 if the quota is used up; this request is not counted (`count` it once done)."""
        self._ask(name, default, key, self.strategy.test)

    def count(self, name: str, default: str, key: str) -> None:
        """Count something done (after `check`): never refused, it is done. Requests checked at once
        may together go a few over the quota; that is the price of not counting refusals."""
        try:
            self.strategy.hit(parse(self.overrides.get(name, default)), name, key)
        except Exception as exc:
            log.warning("rate limit %s not counted: %s", name, type(exc).__name__)

    def _ask(self, name: str, default: str, key: str, allows) -> None:
        item = parse(self.overrides.get(name, default))
        try:
            if allows(item, name, key):
                return
            stats = self.strategy.get_window_stats(item, name, key)
        except Exception as exc:  # the counter is down: let the request through, say so
            log.warning("rate limit %s not checked: %s", name, type(exc).__name__)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(429, "rate.limited", detail=name, headers={"Retry-After": str(wait)})


class Quota:
    """A quota of work for one request: `check` before the work (429 if used up), `count` once it is done.
    `entries`: (name, default figure, key) of each count it is held to (the user's, the address's)."""

    def __init__(self, limiter: Limiter, entries: list[tuple[str, str, str]]):
        self.limiter, self.entries = limiter, entries

    def check(self) -> "Quota":
        for name, default, key in self.entries:
            self.limiter.check(name, default, key)
        return self

    def count(self) -> None:
        for name, default, key in self.entries:
            self.limiter.count(name, default, key)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_limiter(request: Request) -> Limiter:
    return request.app.state.limiter


LimiterDep = Annotated[Limiter, Depends(get_limiter)]


def limit(name: str, default: str, *, per: str = "user", counts: str = "attempts"):
    """A dependency counting this request against `name`: per signed-in user (the request must be
    signed in), per client address, or both. `counts="done"`: only a request answered without an error
    counts (a quota of work, see above). For another key (a phone number), call `Limiter.hit` from the
    endpoint with `LimiterDep`."""
    if per == "address":
        def by_address(request: Request, limiter: LimiterDep) -> None:
            limiter.hit(name, default, f"a:{client_address(request)}")

        if counts != "attempts":
            raise ValueError("a quota of work done is counted per user")
        return Depends(by_address)

    def keys(request: Request, user) -> list[str]:
        return [f"u:{user.id}"] + ([f"a:{client_address(request)}"] if per == "both" else [])

    def by_user(request: Request, limiter: LimiterDep, user: CurrentUser) -> None:
        for key in keys(request, user):
            limiter.hit(name, default, key)

    def when_done(request: Request, limiter: LimiterDep, user: CurrentUser) -> Iterator[None]:
        quota = Quota(limiter, [(name, default, key) for key in keys(request, user)]).check()
        yield  # an error of the endpoint (or of the request's own validation) is raised here: not counted
        quota.count()

    return Depends(when_done if counts == "done" else by_user)
