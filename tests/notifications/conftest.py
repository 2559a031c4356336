"""Real receivers for notifications: an aiosmtpd SMTP server and an HTTP webhook receiver, both
on 127.0.0.1 in the test process, and helpers that run the delivery worker."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.db import session_factory
from app.notifications.models import Delivery, DeliveryAttempt
from app.notifications.worker import Worker
from tests.conftest import TEST_DATABASE_URL, free_port
from tests.helpers import Configure, Org, OrgFactory

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# -- SMTP ------------------------------------------------------------------------------------


@dataclass
class Mail:
    message: EmailMessage
    recipients: list[str]
    sender: str
    received_at: float

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and answers as the test says."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        #: Messages answered with one of ``data_replies`` (not accepted).
        self.refused: list[Mail] = []
        #: Replies to give to the next DATA commands instead of accepting, e.g. "421 busy".
        self.data_replies: deque[str] = deque()
        #: Addresses to refuse at RCPT, with the reply to give.
        self.refuse: dict[str, str] = {}
        #: The client address of each message's connection (one per SMTP session).
        self.peers: list[Any] = []
        #: Messages at which the server drops the connection instead of answering DATA.
        self.drop_at: set[int] = set()
        self._messages = 0
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail = Mail(message, list(envelope.rcpt_tos), envelope.mail_from, time.monotonic())
        with self._lock:
            self._messages += 1
            self.peers.append(session.peer)
            if self._messages in self.drop_at:
                server.transport.close()  # the connection breaks before the answer
                self.refused.append(mail)
                return "421 4.4.2 connection dropped"
            if self.data_replies:
                self.refused.append(mail)
                return self.data_replies.popleft()
            self.mails.append(mail)
        return "250 Message accepted"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]


@pytest.fixture
def smtp(configure: Configure) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1; the service is configured to send through it."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    configure(smtp_host="127.0.0.1", smtp_port=str(port), smtp_from="tnld@tnld.test")
    yield mailbox
    controller.stop()


# -- Webhooks --------------------------------------------------------------------------------


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Receiver:
    """A real HTTP server in a thread: records every request, answers as the test says."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.replies: dict[str, deque[Reply]] = {}
        #: While cleared, requests are recorded but not answered (a receiver that hangs).
        self.answering = threading.Event()
        self.answering.set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.hooks.append(
                        Hook(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                    queued = receiver.replies.get(self.path)
                    reply = queued.popleft() if queued else Reply()
                receiver.answering.wait(timeout=60)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many workers' senders connect at once
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``path`` with these replies (then 204)."""
        with self._lock:
            self.replies.setdefault(path, deque()).extend(replies)

    def at(self, path: str) -> list[Hook]:
        with self._lock:
            return [h for h in self.hooks if h.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.answering.set()
    server.server.shutdown()
    server.server.server_close()


# -- Running the worker ----------------------------------------------------------------------


def drain(timeout: float = 30.0) -> None:
    """Run the delivery worker in this process until nothing is due."""
    worker = Worker()
    deadline = time.monotonic() + timeout
    try:
        while worker.process_due():
            assert time.monotonic() < deadline, "deliveries did not drain in time"
    finally:
        worker.close()


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0, what: str = "") -> None:
    """Poll ``condition`` until it holds (deadline, no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def deliveries(report_id: str | None = None) -> list[Delivery]:
    with session_factory()() as session:
        stmt = select(Delivery)
        if report_id is not None:
            stmt = stmt.where(Delivery.report_id == uuid.UUID(report_id))
        return list(session.scalars(stmt).unique())


def attempts(delivery_id: Any) -> list[DeliveryAttempt]:
    with session_factory()() as session:
        return list(
            session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.id)
            )
        )


def start_worker_process(**settings: str) -> subprocess.Popen[bytes]:
    """``python -m app worker`` against the test database, as a real separate process."""
    env = {
        **os.environ,
        "TNLD_DATABASE_URL": TEST_DATABASE_URL,
        **{f"TNLD_{name.upper()}": value for name, value in settings.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes started by a test; killed at the end if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


# -- Recipients ------------------------------------------------------------------------------

POLICE_EMAIL = "congan643@tnld.test"
INSPECTORATE_EMAIL = "thanhtra@tnld.test"


@dataclass
class Recipients:
    police: Org
    inspectorate: Org


@pytest.fixture
def recipients(orgs: OrgFactory, receiver: Receiver) -> Recipients:
    """The police of district 643 and the inspectorate, each with e-mail and a webhook."""
    return Recipients(
        police=orgs.create(
            "police",
            commune_code="24121",
            notify_emails=[POLICE_EMAIL],
            webhook_url=receiver.url("/police"),
        ),
        inspectorate=orgs.create(
            "inspectorate",
            notify_emails=[INSPECTORATE_EMAIL],
            webhook_url=receiver.url("/inspectorate"),
        ),
    )
