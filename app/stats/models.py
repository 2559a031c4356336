"""The yearly figures kept at write time (app.stats.kept): base rows per (year, unit) and the
append-only changes not yet added to them.

Both tables are written only by the database: triggers on ``reports`` and ``investigations``
(migration 0012) append a change for every insert and for every update of a counted column, in
the writing transaction; ``app.stats.kept.fold`` moves changes into the base rows."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

#: What a report counts (app.stats.service's figures from the reports, in their order).
REPORT_FIGURES = (
    "reports",
    "labour_accidents",
    "fatal_accidents",
    "deaths",
    "seriously_injured",
    "technical_incidents",
    "technical_incidents_fatal",
    "technical_incident_deaths",
    "technical_incident_seriously_injured",
)
#: The counts kept per (year, unit), in the order of app.stats.service's figures;
#: ``investigations`` (every investigation, whatever its status) only tells whether a unit has
#: any row, as the computed figures list a unit with any report or investigation.
KEPT_FIGURES = (
    *REPORT_FIGURES,
    "investigations",
    "investigations_open",
    "investigations_concluded",
    "fatal_accidents_concluded",
)


class _KeptCounts:
    """The columns of ``KEPT_FIGURES``, the same in the base rows and in the changes."""

    reports: Mapped[int] = mapped_column(BigInteger)
    labour_accidents: Mapped[int] = mapped_column(BigInteger)
    fatal_accidents: Mapped[int] = mapped_column(BigInteger)
    deaths: Mapped[int] = mapped_column(BigInteger)
    seriously_injured: Mapped[int] = mapped_column(BigInteger)
    technical_incidents: Mapped[int] = mapped_column(BigInteger)
    technical_incidents_fatal: Mapped[int] = mapped_column(BigInteger)
    technical_incident_deaths: Mapped[int] = mapped_column(BigInteger)
    technical_incident_seriously_injured: Mapped[int] = mapped_column(BigInteger)
    investigations: Mapped[int] = mapped_column(BigInteger)
    investigations_open: Mapped[int] = mapped_column(BigInteger)
    investigations_concluded: Mapped[int] = mapped_column(BigInteger)
    fatal_accidents_concluded: Mapped[int] = mapped_column(BigInteger)


class YearlyFigures(_KeptCounts, Base):
    """The folded counts of one unit (a 2024 district or a 2025 commune, as
    ``app.stats.service._unit_columns`` chooses) in one year of ``occurred_at`` (Vietnam time)."""

    __tablename__ = "yearly_figures"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    unit_level: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class FigureChange(_KeptCounts, Base):
    """A change to one unit's counts of one year (negative for what a row no longer counts),
    appended by the triggers in the transaction that wrote the row. Append-only: concurrent
    filings never wait for each other here (a counter row updated in place would be locked by
    each filing until its commit)."""

    __tablename__ = "figure_changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    year: Mapped[int] = mapped_column(Integer)
    unit_level: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_figure_changes_year", "year"),)
