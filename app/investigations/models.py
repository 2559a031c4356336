from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.accidents import Category, Severity
from app.db import Base, JSONDocument, UTCDateTime, new_id


class InvestigationStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    concluded = "concluded"
    closed = "closed"


#: Still running: these count for deadlines and may become overdue.
ACTIVE: tuple[InvestigationStatus, ...] = (
    InvestigationStatus.open,
    InvestigationStatus.in_progress,
)
FINISHED: tuple[InvestigationStatus, ...] = (
    InvestigationStatus.concluded,
    InvestigationStatus.closed,
)

#: Open or in progress: the statuses whose deadline still runs. Matches the literal IN list
#: that app.investigations.service renders, so PostgreSQL can use the partial indexes.
ACTIVE_PREDICATE = text("status IN ('open', 'in_progress')")


class Investigation(Base):
    """The provincial team's investigation of a notifiable accident (Law 84/2015, Art. 35)."""

    __tablename__ = "investigations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(16))
    severity: Mapped[Severity] = mapped_column(
        Enum(Severity, name="investigation_severity", native_enum=False, length=32)
    )
    status: Mapped[InvestigationStatus] = mapped_column(
        Enum(InvestigationStatus, name="investigation_status", native_enum=False, length=32)
    )
    lead_inspector: Mapped[str | None] = mapped_column(String(200))
    assessment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    findings: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str | None] = mapped_column(Text)
    #: The report's occurred_at (which never changes): the statistics count an investigation
    #: in the year its accident occurred, without joining the reports.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The report's received_at: deadlines run from receipt of the notification.
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Stored (not only computed) so that open investigations can be listed by deadline fast.
    #: Null where the Law sets no period (an incident without victims: Law 84/2015 Art. 35.6).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Bumped on every change; the ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The extension's days (Art. 35.6, last paragraph: at most the base period); null until
    #: extended. Kept when the base period changes later.
    extension_days: Mapped[int | None] = mapped_column(Integer)
    #: Who approved the extension: the head of the body that set up the team.
    approved_by: Mapped[str | None] = mapped_column(String(200))
    #: The report's category (which never changes): the statistics count labour accidents and
    #: technical incidents apart without joining the reports.
    category: Mapped[Category] = mapped_column(
        Enum(Category, name="investigation_category", native_enum=False, length=32)
    )
    #: The report's place (which never changes), for lists and filters without a join.
    commune_code: Mapped[str | None] = mapped_column(String(16))
    current_commune_codes: Mapped[list[str]] = mapped_column(JSONDocument)

    __table_args__ = (
        # Lists of finished investigations (one status) by deadline.
        Index("ix_investigations_status_due", "status", "due_at", "id"),
        Index("ix_investigations_district_status_due", "district_code", "status", "due_at", "id"),
        # The inspectors' daily list: running investigations by deadline, overall and per
        # district (the police's scope). Partial, so the rows come out already in due_at order
        # for both running statuses together, and the index stays small (bench/README.md).
        Index(
            "ix_investigations_active_due",
            "due_at",
            "id",
            postgresql_where=ACTIVE_PREDICATE,
            sqlite_where=ACTIVE_PREDICATE,
        ),
        Index(
            "ix_investigations_active_district_due",
            "district_code",
            "due_at",
            "id",
            postgresql_where=ACTIVE_PREDICATE,
            sqlite_where=ACTIVE_PREDICATE,
        ),
        # The overdue investigations of a year, counted at each read of the kept statistics
        # (app.stats.kept): only the running ones, by occurred_at.
        Index(
            "ix_investigations_active_occurred",
            "occurred_at",
            postgresql_where=ACTIVE_PREDICATE,
            sqlite_where=ACTIVE_PREDICATE,
            postgresql_include=["due_at", "district_code", "commune_code"],
        ),
        # The yearly statistics: an index-only scan of one year (PostgreSQL).
        Index(
            "ix_investigations_occurred_stats",
            "occurred_at",
            postgresql_include=["district_code", "status", "severity", "due_at", "category"],
        ),
    )

    def overdue_at(self, now: datetime) -> bool:
        """Open or in progress and past ``due_at`` (exactly at ``due_at`` is still in time);
        never without a ``due_at``."""
        return self.status in ACTIVE and self.due_at is not None and now > self.due_at

    @property
    def overdue(self) -> bool:
        """At the moment of the request (InvestigationRead reads it)."""
        return self.overdue_at(clock.now())
