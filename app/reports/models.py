from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accidents import Category, Severity
from app.auth.models import Organisation
from app.db import Base, JSONDocument, UTCDateTime, new_id
from app.investigations.models import Investigation
from app.reports.rules import report_warnings


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Report(Base):
    """A declaration of an accident or serious technical incident: legal evidence."""

    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[Category] = mapped_column(_enum(Category, "report_category"))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "report_severity"))
    dead_count: Mapped[int] = mapped_column(Integer)
    seriously_injured_count: Mapped[int] = mapped_column(Integer)
    minor_injury_count: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A district of map 2024 (accidents before 2025-07-01, and every report of v1).
    district_code: Mapped[str | None] = mapped_column(String(16))
    commune: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text)
    initial_cause: Mapped[str | None] = mapped_column(Text)
    measures_taken: Mapped[str | None] = mapped_column(Text)
    employer_name: Mapped[str | None] = mapped_column(String(200))
    #: The victims as submitted (with defaults applied): sensitive personal data.
    victims: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    reporter: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    #: The server's time of receipt: the legal time of declaration. Never changes.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean)
    #: 1 for the report as filed; each amendment adds one.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The reporter's phone in E.164 (``+84...``), beside the number as given in ``reporter``.
    reporter_phone_e164: Mapped[str | None] = mapped_column(String(16))
    #: The place by the accident's date (contract, Reports: Place): a commune of map 2025 from
    #: 2025-07-01; before, a district of map 2024 and optionally one of its communes.
    commune_code: Mapped[str | None] = mapped_column(String(16))
    #: The place's full name on the accident's date ("Phường Tân Lập, Tỉnh Đắk Lắk").
    place_name: Mapped[str] = mapped_column(String(500))
    #: The communes of today's map covering the place; also one row each in report_communes,
    #: which the scope and the commune filter query.
    current_commune_codes: Mapped[list[str]] = mapped_column(JSONDocument)
    #: Hex SHA-256 of the exact request body that filed it (null for reports filed before
    #: tnld kept it): evidence that the stored report is what was sent.
    body_sha256: Mapped[str | None] = mapped_column(String(64))

    submitted_by: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    investigation: Mapped[Investigation | None] = relationship(lazy="joined", uselist=False)

    # What the read schemas (app/reports/schemas.py) read besides the columns.
    @property
    def investigation_id(self) -> uuid.UUID | None:
        return self.investigation.id if self.investigation else None

    @property
    def victim_count(self) -> int:
        return len(self.victims)

    @property
    def warnings(self) -> list[dict[str, str]]:
        return report_warnings(self.victims)

    __table_args__ = (
        Index("ix_reports_received_at_id", "received_at", "id"),
        Index("ix_reports_district_received", "district_code", "received_at", "id"),
        Index("ix_reports_submitter_received", "submitted_by_id", "received_at", "id"),
        # Filters on occurred_at, and the yearly statistics as an index-only scan of one year
        # (PostgreSQL; app/stats/service.py, bench/README.md).
        Index(
            "ix_reports_occurred_stats",
            "occurred_at",
            postgresql_include=[
                "district_code",
                "severity",
                "category",
                "dead_count",
                "seriously_injured_count",
            ],
        ),
    )


class ReportCommune(Base):
    """One of a report's current communes (``Report.current_commune_codes``), as a row: "the
    reports of commune C" is then an index lookup on both databases."""

    __tablename__ = "report_communes"

    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), primary_key=True)


class ReportSequence(Base):
    """The last reference number issued per year (references run without gaps in a year)."""

    __tablename__ = "report_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """A POST /reports seen with an Idempotency-Key, per organisation."""

    __tablename__ = "idempotency_records"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    #: ``in_flight`` while the first request is being processed, then ``completed``.
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportVersion(Base):
    """One numbered version of a report: 1 as filed, then one per amendment, with who filed it,
    when, what changed and the whole report as it stood (app/reports/amendments.py).

    Version 1 is written when the first amendment arrives (until then the report itself is
    version 1). Rows are never updated or deleted: together they are the report's history.
    """

    __tablename__ = "report_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    note: Mapped[str | None] = mapped_column(Text)
    #: ``[{"field": "/victims/0/outcome", "from": ..., "to": ...}]``; empty for version 1.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    #: The report as GET returned it at this version: sensitive personal data, report scope.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: Hex SHA-256 of the exact request body that made this version.
    body_sha256: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("report_id", "version"),)

    # What ReportVersionRead (app/reports/schemas.py) reads besides the columns.
    @property
    def created_by(self) -> Organisation:
        return self.organisation

    @property
    def report(self) -> dict[str, Any]:
        return self.snapshot

    @property
    def warnings(self) -> list[dict[str, str]]:
        return list(self.snapshot.get("warnings", []))
