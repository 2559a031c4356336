"""Rate limits (Security and privacy: limits), per API key and, for requests without a valid
key, per client address: ``TNLD_RATE_LIMIT_WRITES`` (default ``120/minute``) and
``TNLD_RATE_LIMIT_READS`` (``1200/minute``); ``0`` turns a limit off.

Counted by the ``limits`` library: in this process's memory by default, or in Redis
(``TNLD_REDIS_URL``) when several processes serve, so the limit is the deployment's and not
each process's. A moving window: a burst at a window's edge does not get twice the limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from app.config import Settings, get_settings
from app.errors import RateLimited

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_limit(value: str) -> RateLimitItem | None:
    """``120/minute`` → the limit; ``0`` (or blank) → no limit."""
    value = value.strip()
    if value in ("", "0"):
        return None
    return parse(value)


@dataclass(frozen=True)
class Limiter:
    limiter: MovingWindowRateLimiter
    writes: RateLimitItem | None
    reads: RateLimitItem | None

    def hit(self, *, method: str, identity: str) -> None:
        """Count one request of ``identity`` (``key:<id>`` or ``addr:<address>``); over the
        limit → :class:`RateLimited` with the seconds until a request is counted again."""
        is_read = method.upper() in READ_METHODS
        limit = self.reads if is_read else self.writes
        if limit is None:
            return
        scope = "reads" if is_read else "writes"
        if self.limiter.hit(limit, scope, identity):
            return
        stats = self.limiter.get_window_stats(limit, scope, identity)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(f"More than {limit} {scope}: retry in {wait} s", retry_after_seconds=wait)


@lru_cache(maxsize=8)
def _limiter(writes: str, reads: str, redis_url: str | None) -> Limiter:
    store: Storage = RedisStorage(redis_url) if redis_url else MemoryStorage()
    return Limiter(
        limiter=MovingWindowRateLimiter(store),
        writes=parse_limit(writes),
        reads=parse_limit(reads),
    )


def limiter(settings: Settings | None = None) -> Limiter:
    settings = settings or get_settings()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    return _limiter(settings.rate_limit_writes, settings.rate_limit_reads, redis_url)
