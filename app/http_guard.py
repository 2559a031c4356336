"""Limits on a request's head, enforced by the HTTP server (Security and privacy: limits).

Request headers over 16 KiB in all are answered 431; a connection that has not finished a
request's headers within 10 s is closed. uvicorn's httptools server buffers a header of any
size and waits for it forever (an 8 MiB header was accepted, 600 half-open connections were
kept), so its protocol is extended here: bytes are counted as they arrive, before the parser
buffers them. ``tnld serve`` runs uvicorn with this protocol; a reverse proxy in front applies
the same limits (README, Production).
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import HeaderFieldsTooLarge

#: The request line and headers, in all.
MAX_HEAD_BYTES = 16 * 1024
#: From a request's first byte (or the connection's opening) to the end of its headers.
HEAD_SECONDS = 10.0

_END_OF_HEAD = b"\r\n\r\n"
_TOO_LARGE = json.dumps(
    HeaderFieldsTooLarge(
        f"The request line and headers may be at most {MAX_HEAD_BYTES} bytes in all"
    ).body()
).encode()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size and a time limit on each request's head."""

    _head: bytearray
    _in_head: bool
    _head_timer: asyncio.TimerHandle | None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head = bytearray()
        self._in_head = True
        self._head_timer = None
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            room = MAX_HEAD_BYTES + len(_END_OF_HEAD) - len(self._head)
            if room > 0:
                self._head += data[:room]
            if len(self._head) > MAX_HEAD_BYTES and _END_OF_HEAD not in self._head:
                self._refuse_too_large()
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None and self._in_head:
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # The next request on this connection starts its own head (its timer starts with
        # its first byte: an idle keep-alive connection is uvicorn's timeout_keep_alive).
        self._in_head = True
        self._head = bytearray()

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()

    def _refuse_too_large(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        if self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/problem+json\r\n"
            b"content-length: " + str(len(_TOO_LARGE)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + _TOO_LARGE
        )
        self.transport.close()
