"""A slow, hanging or broken webhook receiver harms no one but itself (Security and privacy):
each send ends within its total deadline as a `timeout` or error attempt, retried on the
schedule; a delivery is never being sent twice at the same time (its lease is renewed while the
send runs); and the other recipient's delivery of the same report goes out at once.

The misbehaving receivers are real TCP servers on 127.0.0.1 speaking (bad) HTTP by hand."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from app.notifications.worker import RECIPIENT_CONCURRENCY, start_embedded_worker
from tests.helpers import Configure, Org, OrgFactory, post_report
from tests.notifications.conftest import Receiver, attempts, deliveries, wait_until

#: The send deadline the tests configure; the lease is shorter, so only renewal keeps it.
DEADLINE = 3.0
LEASE = 1.2

Behaviour = Callable[[socket.socket], None]


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        rest += chunk


def trickles(conn: socket.socket) -> None:
    """The status line, then one byte of headers every second, for ever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for byte in b"x-slow: " + b"a" * 1000:
        time.sleep(1.0)
        conn.sendall(bytes([byte]))


def never_answers(conn: socket.socket) -> None:
    time.sleep(DEADLINE * 4)


def closes_mid_body(conn: socket.socket) -> None:
    conn.sendall(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"ok":')
    conn.shutdown(socket.SHUT_RDWR)


@dataclass
class BadReceiver:
    behaviour: Behaviour
    sock: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    first_request_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/slow"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed: the test is over
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self.lock:
            self.connections += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        try:
            _read_request(conn)
            with self.lock:
                if self.first_request_at is None:
                    self.first_request_at = time.monotonic()
            self.behaviour(conn)
        except OSError:
            pass  # the sender gave up and closed: what a deadline does
        finally:
            with self.lock:
                self.open_now -= 1
            conn.close()


@pytest.fixture
def bad_receiver(request: pytest.FixtureRequest) -> Iterator[BadReceiver]:
    server = BadReceiver(request.param)
    server.start()
    yield server
    server.stopping.set()
    server.sock.close()


@pytest.mark.parametrize(
    ("bad_receiver", "error"),
    [(trickles, "timeout"), (never_answers, "timeout"), (closes_mid_body, "RemoteProtocolError")],
    indirect=["bad_receiver"],
    ids=["trickles", "never-answers", "closes-mid-body"],
)
def test_bad_receiver_ends_in_time_alone_and_is_never_sent_twice_at_once(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    receiver: Receiver,
    bad_receiver: BadReceiver,
    error: str,
    configure: Configure,
) -> None:
    police = orgs.create("police", commune_code="24121", webhook_url=bad_receiver.url)
    orgs.create("inspectorate", webhook_url=receiver.url("/inspectorate"))
    configure(
        webhook_timeout_seconds=str(DEADLINE),
        lease_seconds=str(LEASE),
        worker_poll_seconds="0.05",
        retry_schedule="1h",
    )
    report = post_report(client, enterprise).json()
    [police_delivery] = [d for d in deliveries(report["id"]) if str(d.recipient_id) == police.id]

    stop = start_embedded_worker()
    try:
        wait_until(lambda: bad_receiver.first_request_at is not None, what="the police send")
        wait_until(lambda: len(receiver.at("/inspectorate")) == 1, what="the inspectorate")
        inspectorate_after = receiver.at("/inspectorate")[0].received_at - (
            bad_receiver.first_request_at or 0
        )
        wait_until(
            lambda: attempts(police_delivery.id) != [], timeout=DEADLINE * 3, what="the attempt"
        )
        recorded_after = time.monotonic() - (bad_receiver.first_request_at or 0)
        # Longer than the lease: a lease not renewed would have been claimed again by now.
        time.sleep(LEASE * 2)
    finally:
        stop()

    [attempt] = attempts(police_delivery.id)
    assert attempt.outcome == "retry"
    assert error in (attempt.error or "")
    [after] = [d for d in deliveries(report["id"]) if d.id == police_delivery.id]
    assert (after.status, after.attempts, after.lease_owner) == ("pending", 1, None)
    assert bad_receiver.connections == 1  # sent once: never again while it was in flight
    assert bad_receiver.most_open == 1
    # The other recipient did not wait for the bad one, and the bad one ended by its deadline.
    assert inspectorate_after < 1.0
    assert recorded_after < DEADLINE + 1.0


def test_a_hanging_recipient_takes_only_its_share_of_the_senders(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    receiver: Receiver,
    configure: Configure,
) -> None:
    """Many deliveries to a receiver that hangs occupy a bounded number of senders; a new
    report's delivery to another recipient still goes out at once."""
    hanging = BadReceiver(never_answers)
    hanging.start()
    try:
        orgs.create("police", commune_code="24121", webhook_url=hanging.url)
        orgs.create("inspectorate", webhook_url=receiver.url("/inspectorate"))
        configure(webhook_timeout_seconds=str(DEADLINE), worker_poll_seconds="0.05")
        for _ in range(20):
            post_report(client, enterprise)
        stop = start_embedded_worker()
        try:
            wait_until(lambda: len(receiver.at("/inspectorate")) == 20, what="the inspectorate")
            with hanging.lock:
                held = hanging.open_now
            post_report(client, enterprise)
            wait_until(lambda: len(receiver.at("/inspectorate")) == 21, timeout=1.0)
        finally:
            stop()
    finally:
        hanging.stopping.set()
        hanging.sock.close()
    assert held <= RECIPIENT_CONCURRENCY
