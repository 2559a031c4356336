"""The worker's own HTTP/1.1 client for webhooks (app/notifications/http11.py), against real
loopback servers: a keep-alive HTTP/1.1 receiver written on sockets, and a TLS one with a
certificate made here. What the worker-level tests (test_retries, test_slow_receivers) do not
already show: connections are reused after an acceptance and never after an error, a cut-off
body or a deadline; TLS goes to the checked address and verifies the configured host name;
an acceptance's and an error's bodies are read only so far."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.auth.models import OrganisationKind
from app.notifications import http11
from app.notifications.jobs import Job, Outcome, SendResult
from app.notifications.models import Channel
from app.notifications.webhook import (
    EXCERPT_BYTES,
    MAX_ACCEPT_BYTES,
    WebhookAddress,
    error_class,
    new_client,
    send_webhook,
)

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()

#: What the receiver does with one request on a connection: returns False to close it.
Answer = Callable[[socket.socket], bool]


def answer(status: int, body: bytes = b"", headers: str = "") -> Answer:
    def reply(conn: socket.socket) -> bool:
        head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n{headers}\r\n"
        conn.sendall(head.encode() + body)
        return True

    return reply


def cut_off(conn: socket.socket) -> bool:
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{")
    return False


def stalls(conn: socket.socket) -> bool:
    threading.Event().wait(5)
    return False


def slow_error_body(conn: socket.socket) -> bool:
    """A 503 whose body never comes: the excerpt gives up, the status is kept."""
    conn.sendall(b"HTTP/1.1 503 Busy\r\ncontent-length: 1000\r\n\r\nbusy ")
    threading.Event().wait(5)
    return False


@dataclass
class KeepAliveReceiver:
    """HTTP/1.1 with keep-alive, answering each request as scripted (then 204)."""

    context: ssl.SSLContext | None = None
    answers: deque[Answer] = field(default_factory=deque)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    sock: socket.socket = field(default_factory=socket.socket)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            with self.lock:
                self.connections += 1
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                with self.lock:
                    self.requests.append(head)
                    reply = self.answers.popleft() if self.answers else answer(204)
                if not reply(conn):
                    return
        except OSError:
            pass  # the client gave up: what a deadline does
        finally:
            conn.close()


@pytest.fixture
def hooks() -> Iterator[KeepAliveReceiver]:
    server = KeepAliveReceiver()
    server.start()
    yield server
    server.sock.close()


def job(url: str) -> Job:
    return Job(
        delivery_id=uuid.uuid4(),
        attempts=0,
        schedule_start=0,
        channel=Channel.webhook,
        recipient_name="Công an xã",
        recipient_kind=OrganisationKind.police,
        event_type="report.filed",
        event_created_at=dt.datetime.now(dt.UTC),
        payload={"reference": "TNLD-2026-000001"},
        address=WebhookAddress(url, SECRET),
    )


def send_all(url: str, count: int, *, deadline: float = 10.0) -> tuple[list[SendResult], int]:
    """Send ``count`` webhooks one after the other over one client; the results and how many
    connections the client keeps idle at the end."""

    async def run() -> tuple[list[SendResult], int]:
        client = new_client(connections=8)
        try:
            results = [
                await send_webhook(job(url), client=client, deadline=deadline, allowed=LOOPBACK)
                for _ in range(count)
            ]
            return results, client.idle_connections
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_accepted_webhooks_share_one_connection(hooks: KeepAliveReceiver) -> None:
    results, idle = send_all(f"http://127.0.0.1:{hooks.port}/hook?x=1", 5)
    assert [r.outcome for r in results] == [Outcome.delivered] * 5
    assert hooks.connections == 1
    assert idle == 1
    head = hooks.requests[0].decode()
    assert head.startswith("POST /hook?x=1 HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{hooks.port}" in head
    assert "webhook-signature: v1," in head


@pytest.mark.parametrize(
    ("first", "outcome", "error"),
    [
        (answer(500, b"oops"), Outcome.retry, "http_500"),
        (answer(410), Outcome.failed, "http_410"),
        (answer(302, headers="location: http://127.0.0.1:1/\r\n"), Outcome.retry, "http_302"),
        (cut_off, Outcome.retry, "protocol_error: RemoteProtocolError"),
        (stalls, Outcome.retry, "timeout"),
    ],
    ids=["500", "410", "redirect", "cut-off-body", "deadline"],
)
def test_a_connection_is_not_reused_after_anything_but_an_acceptance(
    hooks: KeepAliveReceiver, first: Answer, outcome: Outcome, error: str
) -> None:
    hooks.answers.append(first)
    results, _ = send_all(f"http://127.0.0.1:{hooks.port}/hook", 2, deadline=1.0)
    assert results[0].outcome is outcome
    assert (results[0].error or "").startswith(error)
    assert results[1].outcome is Outcome.delivered
    assert hooks.connections == 2  # the second went on a new connection
    assert len(hooks.requests) == 2  # no redirect followed


def test_retry_after_is_read_from_the_answer(hooks: KeepAliveReceiver) -> None:
    hooks.answers.append(answer(429, headers="Retry-After: 120\r\n"))
    [result], _ = send_all(f"http://127.0.0.1:{hooks.port}/hook", 1)
    assert result.retry_after == dt.timedelta(seconds=120)


def test_an_error_answer_is_kept_only_in_part(hooks: KeepAliveReceiver) -> None:
    hooks.answers.extend([answer(500, b"e" * 10_000), slow_error_body])
    results, _ = send_all(f"http://127.0.0.1:{hooks.port}/hook", 2, deadline=4.0)
    assert results[0].error == f"http_500: HTTP 500 X: {'e' * EXCERPT_BYTES}"
    # The excerpt stopped waiting for a body that never came; the send kept its status.
    assert results[1].error == "http_503: HTTP 503 Busy: busy"


def test_a_huge_acceptance_is_not_read_to_its_end(hooks: KeepAliveReceiver) -> None:
    hooks.answers.append(answer(200, b"a" * (MAX_ACCEPT_BYTES * 4)))
    results, _ = send_all(f"http://127.0.0.1:{hooks.port}/hook", 2)
    assert [r.outcome for r in results] == [Outcome.delivered] * 2
    assert hooks.connections == 2  # dropped, not read on


def test_a_refused_connection_is_a_retry() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    [result], _ = send_all(f"http://127.0.0.1:{port}/hook", 1)
    assert result.outcome is Outcome.retry
    assert (result.error or "").startswith("connection_refused: ConnectError")


# -- TLS -------------------------------------------------------------------------------------

HOOK_HOST = "hooks.tnld.test"


def certificate(tmp: Path, *, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for ``name`` it signed: (CA file, certificate, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tnld test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_hooks(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KeepAliveReceiver]:
    """A TLS receiver on 127.0.0.1 whose certificate names ``request.param``; the process
    trusts its CA (SSL_CERT_FILE, which the client's httpx trust settings honour)."""
    ca, cert, key = certificate(tmp_path, name=request.param)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = KeepAliveReceiver(context=context)

    def remember_name(_: object, name: str | None, __: object) -> None:
        with server.lock:
            server.server_names.append(name)

    context.sni_callback = remember_name
    server.start()
    patch = pytest.MonkeyPatch()
    patch.setenv("SSL_CERT_FILE", str(ca))
    yield server
    patch.undo()
    server.sock.close()


async def post_over_tls(port: int) -> tuple[int | None, str]:
    """POST to the checked address 127.0.0.1 as ``HOOK_HOST`` (what send_webhook does once
    the name has been resolved and checked)."""
    client = http11.Client(max_idle=2)
    try:
        async with client.post(
            key=("https", HOOK_HOST, port, "127.0.0.1"),
            host_header=f"{HOOK_HOST}:{port}",
            target="/hook",
            headers=[("content-type", "application/json")],
            body=b"{}",
        ) as response:
            await response.read(100)
            return response.status_code, ""
    except http11.ConnectError as exc:
        return None, error_class(exc)
    finally:
        await client.aclose()


@pytest.mark.parametrize("tls_hooks", [HOOK_HOST], indirect=True)
def test_tls_goes_to_the_checked_address_as_the_configured_host(
    tls_hooks: KeepAliveReceiver,
) -> None:
    assert asyncio.run(post_over_tls(tls_hooks.port)) == (204, "")
    assert tls_hooks.server_names == [HOOK_HOST]  # SNI: the configured name, not the address
    assert f"host: {HOOK_HOST}:{tls_hooks.port}" in tls_hooks.requests[0].decode()


@pytest.mark.parametrize("tls_hooks", ["elsewhere.tnld.test"], indirect=True)
def test_tls_refuses_a_certificate_for_another_name(tls_hooks: KeepAliveReceiver) -> None:
    assert asyncio.run(post_over_tls(tls_hooks.port)) == (None, "tls_error")
    assert tls_hooks.requests == []
