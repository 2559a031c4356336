"""Limits on a request's head, against the real server (``tnld serve``): headers over 16 KiB
in all → 431; a connection that has not finished its headers within 10 s is closed; no
``Server`` banner (Security and privacy)."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.test_cli import served  # noqa: F401 (a fixture)


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    assert parts.hostname
    assert parts.port
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _exchange(base: str, head: bytes) -> bytes:
    with _connect(base) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_headers_over_16_kib_are_431(served: str) -> None:  # noqa: F811
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (17 * 1024) + b"\r\n\r\n"
    answer = _exchange(served, head)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]


def test_an_8_mib_header_is_refused_before_it_is_read(served: str) -> None:  # noqa: F811
    with _connect(served) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 8 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass  # the server closed the connection: what is expected
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""


def test_headers_under_16_kib_are_served(served: str) -> None:  # noqa: F811
    response = httpx.get(served + "/healthz", headers={"X-Big": "a" * (12 * 1024)})
    assert response.status_code == 200
    assert "server" not in response.headers


def test_a_connection_that_never_finishes_its_headers_is_closed(served: str) -> None:  # noqa: F811
    with _connect(served) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + 30
        closed = False
        while time.monotonic() < deadline:
            try:
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                closed = True
                break
    assert closed
