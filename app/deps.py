"""The dependencies every API router shares: the request's database session and the page
parameters. (Who the caller is and what it may do: app/auth/deps.py.)"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from app.db import REQUEST_INFO, request_session
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageParams

logger = logging.getLogger("app.db")

#: Threads that end a transaction a route left open (see :func:`get_session`): apart from the
#: request threads (``TNLD_REQUEST_THREADS``), because a transaction waiting for one of those
#: could hold locks (SQLite's write lock, PostgreSQL row locks) that the requests occupying
#: them wait for.
_CLOSING_THREADS: RunVar[CapacityLimiter] = RunVar("tnld_closing_threads")


def _closing_threads() -> CapacityLimiter:
    try:
        return _CLOSING_THREADS.get()
    except LookupError:
        limiter = CapacityLimiter(64)
        _CLOSING_THREADS.set(limiter)
        return limiter


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session.

    Made on the event loop, where it costs no I/O: the session checks a connection out at its
    first statement, in the request thread that runs the endpoint, and the endpoint's route
    (:class:`app.routing.ReleasingRoute`) closes it before that thread is given back. So no
    request holds a connection, a transaction or SQLite's write lock while it waits for a
    thread, for its response to be serialised or for its client (README, Concurrency)."""
    session = request_session(method=request.method, path=request.url.path)
    try:
        yield session
    finally:
        if session.in_transaction():
            # Only a route outside ReleasingRoute gets here (a bug: its transaction was held
            # while the request waited): end it in a thread of its own, never on the event
            # loop. The tests fail on this message.
            logger.warning(
                "%s left a transaction open after its endpoint", session.info[REQUEST_INFO]
            )
            await to_thread.run_sync(session.close, limiter=_closing_threads())
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1..200).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=500, description="Opaque cursor from `next_cursor`.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]
