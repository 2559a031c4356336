"""Rate limits (Security and privacy: limits), per API key and, for requests without a valid
key, per client address: ``TNLD_RATE_LIMIT_WRITES`` (default ``120/minute``) and
``TNLD_RATE_LIMIT_READS`` (``1200/minute``); ``0`` turns a limit off.

Counted by the ``limits`` library: in this process's memory by default, or in Redis
(``TNLD_REDIS_URL``) when several processes serve, so the limit is the deployment's and not
each process's. A moving window: a burst at a window's edge does not get twice the limit.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import anyio
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings, get_settings
from app.errors import RateLimited
from app.problem_handlers import SAFE_METHODS, problem_response


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
    #: Counted in this process's memory (no I/O: may run on the event loop).
    in_memory: bool = True

    def hit(self, *, method: str, identity: str) -> None:
        """Count one request of ``identity`` (``key:<id>`` or ``addr:<address>``); over the
        limit → :class:`RateLimited` with the seconds until a request is counted again."""
        is_read = method.upper() in SAFE_METHODS
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
        in_memory=not redis_url,
    )


def limiter(settings: Settings | None = None) -> Limiter:
    settings = settings or get_settings()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    return _limiter(settings.rate_limit_writes, settings.rate_limit_reads, redis_url)


#: Paths of the API that need no key: every caller is counted by address, key or not (a key
#: is not checked there, so a made-up one must not open a separate allowance).
PUBLIC_API_PATHS = ("/api/v1/divisions",)
API_PATHS = "/api/"


def has_bearer(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request carries ``Authorization: Bearer <something>`` (what
    ``fastapi.security.HTTPBearer`` accepts): such a request is counted by
    :func:`app.auth.deps.current_principal`, per key when it is valid, else per address."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
            return scheme.lower() == "bearer" and bool(credentials.strip())
    return False


class AddressLimit:
    """Counts per client address the API requests that no key will be counted for: those
    without a bearer key (any path under ``/api/``: public endpoints, unknown paths, the 401s
    of a missing key) and every request to a public path. Pure ASGI, before routing: a refused
    request reads no body and takes no thread. The counter is in memory (checked on the event
    loop, no I/O) or in Redis (checked in a thread, holding nothing but the request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(API_PATHS) or (
            not path.startswith(PUBLIC_API_PATHS) and has_bearer(scope.get("headers", []))
        ):
            await self.app(scope, receive, send)
            return
        limits = limiter()
        client = scope.get("client")
        identity = f"addr:{client[0] if client else 'unknown'}"
        try:
            if limits.in_memory:
                limits.hit(method=scope["method"], identity=identity)
            else:
                await anyio.to_thread.run_sync(
                    functools.partial(limits.hit, method=scope["method"], identity=identity)
                )
        except RateLimited as refused:
            await problem_response(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
