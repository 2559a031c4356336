"""What a sender is given (a claimed delivery, with everything needed to send it) and what it
gives back (the outcome of one attempt). Senders never touch the database."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.auth.models import OrganisationKind
from app.notifications.models import Channel

#: Longest text kept from a reply or an error, per attempt.
MAX_DETAIL = 500


class Outcome(enum.StrEnum):
    delivered = "delivered"
    #: Not delivered this time; try again per the retry schedule.
    retry = "retry"
    #: Will never succeed as it is (HTTP 410, SMTP 5xx for every recipient).
    failed = "failed"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    #: The SMTP reply or the HTTP status line.
    response: str | None = None
    error: str | None = None
    #: The receiver asked us to wait at least this long (HTTP ``Retry-After``).
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class Job:
    """A delivery claimed by a worker, as it was when claimed."""

    delivery_id: uuid.UUID
    attempts: int
    schedule_start: int
    channel: Channel
    recipient_name: str
    recipient_kind: OrganisationKind
    event_type: str
    event_created_at: datetime
    payload: dict[str, Any]
    #: The recipient's address on the job's channel as it was claimed (the channel's own type,
    #: app.notifications.channels), None when the organisation has none any more.
    address: object | None = None
    #: No police organisation covers the report's place: the inspectorate is told so. Decided
    #: once, when the outbox rows were written (the event's ``police_unroutable``).
    police_unroutable: bool = False
    recipient_id: uuid.UUID | None = None
    #: The claim that leased it: only this claim may record its result (queue.py).
    lease_owner: str = ""


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
