"""The e-mail channel: a recipient's ``notify_emails``; the message (the text of
app.notifications.compose, in a MIME envelope) carried by app.notifications.mailer.

The ``Message-ID`` is derived from the delivery id, so every retry of one delivery carries the
same id and a receiving system can drop duplicates (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import Charset
from email.message import Message
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime

from pydantic import ValidationError

from app.notifications import mailer
from app.notifications.channels import OrganisationRow, Sender, Sent
from app.notifications.compose import ReportNotice, compose, notice
from app.notifications.jobs import Job, Outcome, SendResult, short
from app.notifications.models import Channel

#: SMTP sessions a batch's e-mails are spread over (each sends its messages one after another).
SMTP_SESSIONS = 4
#: The longest line RFC 5322 allows (§2.1.1): headers are written unfolded.
UNFOLDED = 998
UTF8 = Charset("utf-8")


class _Unfolded(Compat32):
    """compat32, with every header that is already plain ASCII on one line written as it is.

    Our headers are ASCII by the time they are set (the subject is one encoded word), yet
    compat32 passes each through ``email.header.Header`` to fold it: that was 30% of the
    worker's CPU for an e-mail (bench/README.md, Notifications). Anything else (a line break, a
    non-ASCII address, a line too long) is folded by compat32 as before."""

    def _as_is(self, name: str, value: object) -> str | None:
        if not isinstance(value, str) or not value.isascii() or "\r" in value or "\n" in value:
            return None
        line = f"{name}: {value}"
        return line + self.linesep if len(line) <= UNFOLDED else None

    def fold(self, name: str, value: str) -> str:
        return self._as_is(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        line = self._as_is(name, value)
        return line.encode("ascii") if line is not None else super().fold_binary(name, value)


UNFOLDED_HEADERS = _Unfolded(max_line_length=UNFOLDED)


@dataclass(frozen=True)
class EmailAddress:
    """Where an organisation's e-mails go (every address, one message)."""

    emails: tuple[str, ...]


def message_id(delivery_id: uuid.UUID, sender: str) -> str:
    domain = sender.rpartition("@")[2].strip(" >") or "tnld.localhost"
    return f"<{delivery_id}@{domain}>"


def build_message(job: Job, *, sender: str) -> Message:
    """The job's e-mail, ready to send (raises ValidationError if its payload cannot be read)."""
    typed = notice(
        event_type=job.event_type,
        payload=job.payload,
        delivery_id=job.delivery_id,
        police_unroutable=job.police_unroutable,
    )
    letter = compose(typed)
    # The compat32 classes, not EmailMessage: building and flattening an EmailMessage (its header
    # registry folds and re-parses every header) cost 1.3 ms of CPU per e-mail, five times this,
    # and a backlog of thousands is sent by one process (bench/README.md, Notifications).
    message = MIMEText(letter.body, "plain", "utf-8", policy=UNFOLDED_HEADERS)
    # One encoded word, never folded (RFC 5322 §2.1.1 allows 998 characters): Python's folding
    # of RFC 2047 encoded words can drop the space between two words at a fold (the subject
    # then read "kỹthuật"). What Header(subject, "utf-8", maxlinelen=998).encode() gives for a
    # subject of one line, at a sixteenth of its cost.
    message["Subject"] = UTF8.header_encode(letter.subject)
    message["From"] = sender
    address = job.address
    message["To"] = ", ".join(address.emails if isinstance(address, EmailAddress) else ())
    # Stable across retries: the date the event happened, the id of this delivery.
    message["Date"] = format_datetime(job.event_created_at)
    message["Message-ID"] = message_id(job.delivery_id, sender)
    message["Auto-Submitted"] = "auto-generated"
    if isinstance(typed, ReportNotice):  # the deadline digest is about several reports
        message["X-TNLD-Reference"] = typed.report.reference
    return message


class EmailSender(Sender):
    channel = Channel.email
    route_columns = ("notify_emails",)
    address_columns = ("notify_emails",)

    @classmethod
    def address(cls, organisation: OrganisationRow, *, now: datetime) -> EmailAddress | None:
        emails = organisation["notify_emails"]
        return EmailAddress(tuple(emails)) if emails else None

    def batches(self, jobs: Sequence[Job]) -> list[Sequence[Job]]:
        # A few SMTP sessions, several messages each: opening a connection costs far more than
        # a message, and one session per batch would send them one after another.
        sessions = min(SMTP_SESSIONS, len(jobs))
        return [jobs[n::sessions] for n in range(sessions)]

    async def send(self, jobs: Sequence[Job]) -> list[Sent]:
        # smtplib and file writes block: in a thread, off the worker's loop.
        return await asyncio.to_thread(self._send, jobs)

    def _send(self, jobs: Sequence[Job]) -> list[Sent]:
        results: list[Sent] = []
        sender = self.settings.smtp_from
        with mailer.transport(self.settings) as transport:
            for job in jobs:
                started = time.monotonic()
                address = job.address
                if not isinstance(address, EmailAddress):
                    result = SendResult(
                        Outcome.failed, error="no_notify_emails: the organisation has none any more"
                    )
                else:
                    try:
                        message = build_message(job, sender=sender)
                    except ValidationError as exc:
                        # A payload the e-mail cannot be written from will never be: failed.
                        error = f"invalid_payload: {exc.error_count()} error(s)"
                        result = SendResult(Outcome.failed, error=short(error))
                    else:
                        result = transport.send(
                            message, recipients=list(address.emails), delivery_id=job.delivery_id
                        )
                results.append((result, int((time.monotonic() - started) * 1000)))
        return results
