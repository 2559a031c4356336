"""The worker's HTTP/1.1 client for webhooks: h11 over asyncio streams, with a small keep-alive
pool per (scheme, host, port, checked address).

Why a second HTTP client next to httpx (used everywhere else): the delivery worker spent about
45% of its CPU in httpx and httpcore (py-spy --gil, bench/README.md "Notifications"): their
pooled request path sets up locks, events, cancellation shields and extra-attribute lookups for
every request and polls every pooled connection at each one. A webhook is one small POST and a
small answer; this client does only that. Measured (bench/README.md, Notifications): 3,000
signed webhooks to the bench receiver, 16 at a time, cost 3.5-3.7 ms of CPU each through httpx
and 0.56-0.58 ms through this client (6x less); bench/notify.py's worker went from 5.72 to
3.63 ms of CPU per delivery (half of them e-mails) and the webhook p99 after the 201 from 179
to 37 ms.

What it keeps of the httpx path, each a guarantee of webhook.send_webhook:
- it connects to the address that was checked (SSRF), never to a name it resolves itself;
- TLS verifies the certificate against the configured host name, which is also the SNI, with
  httpx's own trust settings (``httpx.create_ssl_context``: certifi, or SSL_CERT_FILE /
  SSL_CERT_DIR when set);
- no redirect is followed (it never follows anything: a 3xx is an answer like any other);
- the caller's total deadline covers connect, request and response however slowly bytes come:
  a cancelled exchange closes its connection;
- a connection goes back to the pool only after a complete exchange that both sides may
  continue (h11's states); after any error, a cancellation, a body not read to its end or an
  answer that was not an acceptance, it is closed.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import h11
import httpx

#: How much is read from a socket at a time.
READ_CHUNK = 65536
#: An idle connection older than this is not reused (receivers close idle ones on their own;
#: httpx's default keep-alive expiry).
KEEPALIVE_EXPIRY_SECONDS = 5.0

#: (scheme, configured host, port, checked address): a connection is reused only for the same
#: address the same name was checked to, and the same TLS name.
PoolKey = tuple[str, str, int, str]


class ConnectError(Exception):
    """The connection could not be opened (refused, unreachable, TLS handshake failed); the
    cause is chained."""


class ConnectionLost(Exception):
    """The receiver closed the connection, or it broke, before a complete answer."""


@dataclass
class _Connection:
    key: PoolKey
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: h11.Connection
    idle_since: float = 0.0

    def reusable(self, now: float) -> bool:
        return (
            now - self.idle_since < KEEPALIVE_EXPIRY_SECONDS
            and not self.writer.is_closing()
            # The receiver closed it while it was idle (its FIN is already read).
            and not self.reader.at_eof()
        )

    def abort(self) -> None:
        # No TLS close_notify, no waiting: the connection is given up at once.
        self.writer.transport.abort()


class Exchange:
    """One request's answer: the status and headers, and the body read on demand."""

    def __init__(self, connection: _Connection, response: h11.Response) -> None:
        self._connection = connection
        self.status_code = response.status_code
        self.reason_phrase = response.reason.decode("latin-1")
        self.headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in response.headers
        }
        #: What has been read of the body so far (kept when a deadline cuts the reading).
        self.body = bytearray()
        #: The whole body was read (h11 saw its end): the connection may be reused.
        self.complete = False

    async def read(self, limit: int) -> bytes:
        """The body, up to its end or until more than ``limit`` bytes have come (then it stops
        reading and the connection is not reused). A body cut off before its end raises
        h11.RemoteProtocolError."""
        body = self.body
        while not self.complete and len(body) <= limit:
            event = await _next_event(self._connection)
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                self.complete = True
                break
            else:  # pragma: no cover (h11 sends only data then the end after a response)
                raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}")
        return bytes(body)


async def _next_event(connection: _Connection) -> h11.Event:
    protocol = connection.protocol
    while True:
        event = protocol.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await connection.reader.read(READ_CHUNK)
            except OSError as exc:
                raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
            protocol.receive_data(data)  # b"": the receiver closed its side
            continue
        if isinstance(event, h11.ConnectionClosed):
            raise ConnectionLost("the receiver closed the connection without an answer")
        if event is h11.PAUSED:  # pragma: no cover (only after a complete answer)
            raise h11.RemoteProtocolError("the receiver went on after its answer")
        assert isinstance(event, h11.Event)
        return event


class Client:
    """Bounded: at most ``max_idle`` idle connections are kept (the busy ones are bounded by the
    worker's sending slots). One per worker; not for use across event loops."""

    def __init__(self, *, max_idle: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.max_idle = max_idle
        self._ssl_context = ssl_context
        self._idle: dict[PoolKey, deque[_Connection]] = {}
        self._idle_count = 0

    @property
    def idle_connections(self) -> int:
        return self._idle_count

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            # Made once (loading the CA bundle costs milliseconds), with httpx's trust settings.
            context = httpx.create_ssl_context()
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    @asynccontextmanager
    async def post(
        self,
        *,
        key: PoolKey,
        host_header: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> AsyncIterator[Exchange]:
        """POST ``body`` to ``target`` (path and query) over a connection to ``key``; yields the
        answer once its head has come. The caller bounds the whole exchange (a deadline); leaving
        the block early, by an error or a cancellation, closes the connection."""
        connection = await self._acquire(key)
        exchange: Exchange | None = None
        try:
            request = h11.Request(
                method="POST",
                target=target,
                headers=[
                    ("host", host_header),
                    *headers,
                    ("content-length", str(len(body))),
                ],
            )
            protocol = connection.protocol
            connection.writer.write(
                protocol.send(request)
                + (protocol.send(h11.Data(data=body)) or b"")
                + (protocol.send(h11.EndOfMessage()) or b"")
            )
            try:
                await connection.writer.drain()
            except OSError as exc:
                raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
            while True:
                event = await _next_event(connection)
                if isinstance(event, h11.Response):
                    break
                if not isinstance(event, h11.InformationalResponse):  # pragma: no cover
                    raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}")
            exchange = Exchange(connection, event)
            yield exchange
        finally:
            if exchange is not None and exchange.complete and 200 <= exchange.status_code < 300:
                self._release(connection)
            else:
                connection.abort()

    async def _acquire(self, key: PoolKey) -> _Connection:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if connection.reusable(now):
                return connection
            connection.abort()
        scheme, host, port, address = key
        try:
            if scheme == "https":
                reader, writer = await asyncio.open_connection(
                    address, port, ssl=self._tls(), server_hostname=host, limit=READ_CHUNK
                )
            else:
                reader, writer = await asyncio.open_connection(address, port, limit=READ_CHUNK)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
        return _Connection(key, reader, writer, h11.Connection(our_role=h11.CLIENT))

    def _release(self, connection: _Connection) -> None:
        protocol = connection.protocol
        if (
            protocol.our_state is not h11.DONE
            or protocol.their_state is not h11.DONE
            or self._idle_count >= self.max_idle
        ):
            connection.abort()
            return
        protocol.start_next_cycle()
        connection.idle_since = time.monotonic()
        idle = self._idle.setdefault(connection.key, deque())
        # The oldest ones first out once they have expired (the newest are reused first).
        while idle and not idle[0].reusable(connection.idle_since):
            idle.popleft().abort()
            self._idle_count -= 1
        idle.append(connection)
        self._idle_count += 1

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.abort()
        self._idle.clear()
        self._idle_count = 0
