"""The route class of every router: a synchronous endpoint gives its session back in its own
thread.

FastAPI runs a synchronous endpoint in a request thread (``TNLD_REQUEST_THREADS``), then, in
another hop through the same threads, validates its response. A read's transaction would stay
open across that hop (and a failed write's until the request's dependencies are closed): a
request waiting for a thread would hold a pooled connection, on SQLite a read snapshot or the
write lock, on PostgreSQL an "idle in transaction" backend and its row locks. Under a burst the
requests waiting held the whole pool while the threads waited for the pool (issue 8). Closing
the session at the end of the endpoint's own call ends all of that in the thread that did the
work.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.db import release


def _releasing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the signature through __wrapped__
    def run(*args: Any, **kwargs: Any) -> Any:
        succeeded = False
        try:
            result = endpoint(*args, **kwargs)
            succeeded = True
            return result
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    release(value, succeeded=succeeded)

    return run


class ReleasingRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _releasing(endpoint)
        super().__init__(path, endpoint, **kwargs)
