"""Carrying e-mails: the transport under the messages of app.notifications.email.

A batch of e-mails goes out over one SMTP session per server (several messages per
connection; opening a connection, greeting and TLS cost far more than a message), reconnecting
once when the server drops the connection mid-batch. Without an SMTP host, messages are written
as ``.eml`` files into ``TNLD_MAIL_DIR``. Each message gets its own result: one refused
recipient never fails the others' messages.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from app.config import Settings
from app.notifications.jobs import Outcome, SendResult, short

#: Per SMTP command. A session can take longer than the worker's lease: the worker renews the
#: lease of everything it is sending (app.notifications.worker).
SMTP_TIMEOUT_SECONDS = 20.0
#: Errors after which the connection is closed and the next message opens a new one.
_BROKEN = (smtplib.SMTPServerDisconnected, OSError)


class Transport(Protocol):
    def send(
        self, message: Message, *, recipients: list[str], delivery_id: uuid.UUID
    ) -> SendResult: ...


@contextmanager
def transport(settings: Settings) -> Iterator[Transport]:
    """Where this batch's messages go: one SMTP session (closed at the end), or, without an
    SMTP host, the mail folder."""
    if settings.smtp_host is None:
        yield MailFolder(settings.mail_dir)
        return
    session = SmtpSession(settings)
    try:
        yield session
    finally:
        session.close()


class MailFolder:
    """Each message as ``<delivery id>.eml`` in a folder (no SMTP host configured)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(
        self, message: Message, *, recipients: list[str], delivery_id: uuid.UUID
    ) -> SendResult:
        folder = self.folder
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / f"{delivery_id}.eml"
            partial = path.with_suffix(".eml.part")
            # The message names the reporter: readable by the service's user only.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(message.as_bytes())
            os.replace(partial, path)  # a reader never sees half a message
        except OSError as exc:
            return SendResult(
                Outcome.retry, error=short(f"mail_dir_error: could not write {folder}: {exc}")
            )
        return SendResult(Outcome.delivered, response=f"written to {path}")


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """Built once: loading the CA store takes ~0.1 s of CPU, far more than a send."""
    return ssl.create_default_context()


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return short(f"{code} {text}")


class SmtpSession:
    """One SMTP connection, opened at the first message and reused for the next ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host, self.port = settings.smtp_host or "", settings.effective_smtp_port
        self.client: smtplib.SMTP | None = None
        #: The current connection was opened (greeting, TLS, login): a break later is retried.
        self._connected = False

    def send(
        self, message: Message, *, recipients: list[str], delivery_id: uuid.UUID | None = None
    ) -> SendResult:
        """Send one message; a connection found dropped is reopened once for it."""
        result, broken = self._send_once(message, recipients)
        if broken:
            # The connection broke after it was open (a server that cannot be reached at all
            # is not tried twice): one fresh connection for this message.
            connected = self._connected
            self.close()
            if connected:
                result, broken = self._send_once(message, recipients)
                if broken:
                    self.close()
        return result

    def _send_once(self, message: Message, recipients: list[str]) -> tuple[SendResult, bool]:
        settings = self.settings
        try:
            # smtplib resets the envelope itself after a refused or failed message.
            client = self.client or self._open()
            self._connected = True
            refused = client.send_message(
                message, from_addr=settings.smtp_from, to_addrs=recipients
            )
        except smtplib.SMTPRecipientsRefused as exc:
            return _refused(exc.recipients, accepted=False), False
        except smtplib.SMTPDataError as exc:
            # The message itself was answered: 5xx is a permanent refusal for every recipient.
            outcome = Outcome.failed if exc.smtp_code >= 500 else Outcome.retry
            reply = _reply(exc.smtp_code, exc.smtp_error)
            return SendResult(
                outcome, response=reply, error=f"smtp_refused: message refused: {reply}"
            ), False
        except smtplib.SMTPResponseException as exc:
            # Greeting, login or MAIL FROM refused: our configuration or the server's state, not
            # the recipients. Retrying lets a fixed configuration deliver it without losing it.
            reply = _reply(exc.smtp_code, exc.smtp_error)
            broken = exc.smtp_code == 421 or self.client is None  # 421: the server is closing
            return SendResult(Outcome.retry, response=reply, error=f"smtp_error: {reply}"), broken
        except _BROKEN as exc:
            error = short(f"smtp_connection: {self.host}:{self.port}: {exc!r}")
            return SendResult(Outcome.retry, error=error), True
        except smtplib.SMTPException as exc:
            error = short(f"smtp_connection: {self.host}:{self.port}: {exc!r}")
            return SendResult(Outcome.retry, error=error), True
        if refused:
            return _refused(refused, accepted=True), False
        return SendResult(Outcome.delivered, response="250 accepted"), False

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        client: smtplib.SMTP
        if settings.smtp_tls == "tls":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=_tls()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        self.client = client  # closed by close() even if what follows fails
        if settings.smtp_tls == "starttls":
            client.starttls(context=_tls())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            client.login(settings.smtp_username, password)
        return client

    def close(self) -> None:
        client, self.client = self.client, None
        self._connected = False
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _refused(refused: dict[str, tuple[int, bytes]], *, accepted: bool) -> SendResult:
    detail = short(
        "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in refused.items())
    )
    if any(code < 500 for code, _ in refused.values()):
        # A temporary refusal: send again (the stable Message-ID lets the others drop the copy).
        return SendResult(
            Outcome.retry, response=detail, error=f"smtp_deferred: recipient deferred: {detail}"
        )
    if accepted:
        return SendResult(Outcome.delivered, response=f"250 accepted; refused: {detail}")
    return SendResult(
        Outcome.failed, response=detail, error=f"smtp_refused: every recipient refused: {detail}"
    )
