from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import OrganisationKind
from app.db import Base, JSONDocument, UTCDateTime, new_id


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    unroutable = "unroutable"


class Channel(enum.StrEnum):
    email = "email"
    webhook = "webhook"


class NotificationEvent(Base):
    """Something recipients must be told about (``report.created``, ``report.amended``).

    The payload is frozen when the event is written: what was sent is what was declared then.
    """

    __tablename__ = "notification_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    #: Null for an event about no single report (the deadline digest, app.ops.digest).
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: No police organisation covers the report's place (one of the event's deliveries is the
    #: police's, unroutable): decided when the outbox rows are written (app.notifications.outbox).
    #: Nullable only because SQLite adds a NOT NULL column with a server default alone, and the
    #: filing statement writes every column itself: every row has a value (migration 0011).
    police_unroutable: Mapped[bool] = mapped_column(Boolean, nullable=True, default=False)


class Delivery(Base):
    """One event to one recipient organisation on one channel: the transactional outbox row."""

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notification_events.id"))
    #: Null for the deadline digest, which is about no single report.
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"))
    #: Null for an unroutable delivery (no police organisation covers the district).
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, name="delivery_recipient_kind", native_enum=False, length=32)
    )
    channel: Mapped[Channel | None] = mapped_column(
        Enum(Channel, name="delivery_channel", native_enum=False, length=16)
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, name="delivery_status", native_enum=False, length=16)
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: ``attempts`` when the retry schedule last started; a manual retry restarts the schedule.
    schedule_start: Mapped[int] = mapped_column(Integer, default=0)
    #: When the worker may next try it (pending deliveries only).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The worker holding it and until when; an expired lease is free to claim again.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[NotificationEvent] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_report", "report_id", "created_at"),
        Index("ix_deliveries_recipient", "recipient_id"),
        # Metrics count deliveries incrementally, by creation time (app.ops.metrics).
        Index("ix_deliveries_created_at", "created_at"),
    )


class DeliveryAttempt(Base):
    """One try at sending a delivery: when, how it went, what the other side answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(100))
    #: ``delivered``, ``retry`` or ``failed``.
    outcome: Mapped[str] = mapped_column(String(16))
    #: SMTP reply or HTTP status line.
    response: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class Escalation(Base):
    """A report whose labour-authority notification was sent again, unacknowledged
    (app.notifications.escalation): the primary key makes it once per report."""

    __tablename__ = "escalations"

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadlineDigest(Base):
    """The deadline digest of one Vietnam working day: its primary key makes it one per day,
    whatever the number of workers and restarts (app.ops.digest)."""

    __tablename__ = "deadline_digests"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Null when nothing was due: no digest was sent that day.
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notification_events.id"))


class DeadlineAlert(Base):
    """An investigation listed in a digest under one threshold (``due_soon``, ``overdue``):
    each investigation is alerted once per threshold."""

    __tablename__ = "deadline_alerts"

    investigation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("investigations.id"), primary_key=True
    )
    threshold: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
