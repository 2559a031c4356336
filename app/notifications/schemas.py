from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from app.auth.models import OrganisationKind
from app.fields import Timestamp
from app.notifications.models import Channel, DeliveryStatus

UndeliveredStatus = Literal["failed", "unroutable"]


class RecipientRef(BaseModel):
    id: uuid.UUID | None = Field(description="Null when no organisation could be routed to")
    name: str
    kind: OrganisationKind


class DeliveryRead(BaseModel):
    """One notification of a report to one recipient organisation on one channel."""

    id: uuid.UUID = Field(
        description="Also the `webhook-id` header of the webhook and the local part of the "
        "e-mail's `Message-ID`: the same on every retry."
    )
    recipient: RecipientRef
    channel: Channel | None = Field(description="Null for an `unroutable` delivery")
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None
    acknowledged_at: Timestamp | None
    event_type: str = Field(
        description="`report.created`, `report.amended`, or `report.unacknowledged` (sent "
        "again to the labour authority: not acknowledged in time, Operations)"
    )


class UndeliveredRead(DeliveryRead):
    """A delivery that did not reach its recipient (`failed` or `unroutable`), with its report."""

    report_id: uuid.UUID | None = Field(
        description="Null for a deadline digest (`investigation.deadline`), about no one report"
    )
    reference: str
