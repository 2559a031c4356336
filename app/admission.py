"""Admission control: a pure ASGI middleware that bounds the requests in flight.

Overload is answered, not absorbed (issue 8): past ``TNLD_MAX_REQUESTS_IN_FLIGHT`` requests in
the process, a request waits on the event loop up to ``TNLD_ADMISSION_WAIT_SECONDS`` for one to
finish (first come, first served), then gets 503 problem+json (type ``…/overloaded``) with
``Retry-After``. A waiting request holds a socket and a coroutine, nothing else: no thread, no
connection, no transaction. ``/healthz`` is answered on the event loop and never counted, so it
answers whatever the load.
"""

from __future__ import annotations

import math

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import Overloaded
from app.problem_handlers import answer

#: Paths answered on the event loop without the database: never queued, never refused.
UNLIMITED_PATHS = frozenset({"/healthz"})


class Admission:
    def __init__(self, app: ASGIApp, *, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self.retry_after = max(1, math.ceil(wait_seconds))
        # Made on first use, inside the server's event loop.
        self._places: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        if self._places is None:
            self._places = anyio.Semaphore(self.limit)
        places = self._places
        try:
            places.acquire_nowait()
            admitted = True
        except anyio.WouldBlock:
            admitted = False
            with anyio.move_on_after(self.wait_seconds):
                await places.acquire()
                admitted = True
        if not admitted:
            overloaded = Overloaded(
                f"More than {self.limit} requests are in flight; retry in {self.retry_after} s",
                retry_after_seconds=self.retry_after,
            )
            # A page's request is told in a page, in Vietnamese (app.web.errors); the API's in
            # problem+json. Either way the refusal is rendered here, without a thread.
            await answer(Request(scope), overloaded)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            places.release()
