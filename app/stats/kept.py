"""The inspectorate's yearly figures, kept at write time.

Computing a year's figures from the rows reads every report and investigation of the year
(0.3–0.6 s at a million reports: bench/README.md, Pages); the statistics page must answer in
50 ms, and at hundreds of filings per second a cache of the computed figures would be stale at
every read. So the counts are kept as the rows are written, in two tables (app.stats.models):

- ``figure_changes``: append-only. Triggers on ``reports`` and ``investigations`` (migration
  0012) append what a written row counts, per (year, unit), in the writing transaction, and for
  an update what it no longer counts. Whatever writes the rows (the one-statement filing on
  PostgreSQL, SQLite's filing in steps, amendments, status changes, a bulk load) is counted
  the same, by the same expressions. Appending takes no lock another filing waits for: a
  counter row updated in place would be locked by each filing until its commit, and filings in
  the same commune would queue on it.
- ``yearly_figures``: the base row per (year, unit) that ``fold`` adds the changes into, in a
  short transaction of its own, one process at a time, so that a read sums a few rows per unit
  instead of every change since the beginning.

A read is the base rows plus the unfolded changes of the year, in one statement (one
snapshot: a fold commits both tables at once), plus the overdue investigations counted live
(overdue depends on the time of reading, so it cannot be kept): the year's running
investigations past their deadline, from a partial index. ``compute_yearly_stats``
(app.stats.service) stays the reference: the kept figures equal it (tests/stats/test_kept.py).

Only the province's figures are read from here: an area (police, committees) is a filter on
the rows (app.policy.in_area: a report's current communes) that per-unit counts cannot
express, and an area is small.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    case,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from app.db import get_engine
from app.investigations.models import ACTIVE, Investigation
from app.investigations.service import statuses_in
from app.stats.models import KEPT_FIGURES, FigureChange, YearlyFigures

#: Fold once a read finds this many unfolded changes for its year: a read's cost then stays
#: that of summing a few thousand small rows at most, and a fold's transaction short.
FOLD_AFTER = 2000

#: pg_try_advisory_xact_lock(FOLD_LOCK, 0): the two-key form, a key space apart from the
#: one-key locks of app.reports.idempotency.
FOLD_LOCK = 0x7464_6C66  # "tdlf"

_COLUMNS = ", ".join(("year", "unit_level", "unit_code", *KEPT_FIGURES))
_SUMS = ", ".join(f"SUM({name})" for name in KEPT_FIGURES)
_ADD = ", ".join(f"{name} = yearly_figures.{name} + excluded.{name}" for name in KEPT_FIGURES)
_UPSERT = (
    f" GROUP BY year, unit_level, unit_code"
    f" ON CONFLICT (year, unit_level, unit_code) DO UPDATE SET {_ADD}"
)
#: PostgreSQL: the changes this transaction's DELETE sees, and only those, are added to the
#: base rows; a change committed meanwhile (sequence ids commit out of order) stays for the
#: next fold. Both tables change in one commit, so a read sees before or after, never half.
_FOLD_POSTGRESQL = text(
    f"WITH folded AS (DELETE FROM figure_changes RETURNING {_COLUMNS}) "  # noqa: S608
    f"INSERT INTO yearly_figures ({_COLUMNS}) "
    f"SELECT year, unit_level, unit_code, {_SUMS} FROM folded" + _UPSERT
)
#: SQLite: the transaction holds the database's only write lock (BEGIN IMMEDIATE, app.db) from
#: its first statement, so no change can be appended between the two statements.
_FOLD_SQLITE = (
    text(
        f"INSERT INTO yearly_figures ({_COLUMNS}) "  # noqa: S608
        f"SELECT year, unit_level, unit_code, {_SUMS} FROM figure_changes WHERE true" + _UPSERT
    ),
    text("DELETE FROM figure_changes"),
)


def fold(connection: Connection) -> bool:
    """Add every unfolded change into the base rows and delete it, in the caller's transaction
    (to commit at once). False when another process is folding (PostgreSQL): this one skips
    rather than waits."""
    if connection.dialect.name == "postgresql":
        taken = connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:key, 0)"), {"key": FOLD_LOCK}
        ).scalar_one()
        if not taken:
            return False
        connection.execute(_FOLD_POSTGRESQL)
        return True
    for statement in _FOLD_SQLITE:
        connection.execute(statement)
    return True


#: Whether any change waits to be folded.
_ANY_CHANGE = select(FigureChange.id).limit(1)


def fold_pending() -> bool:
    """Fold the changes waiting, if any, in a short write transaction of its own (the worker's
    housekeeping, and a read that found many). With none waiting no write transaction is
    taken (on SQLite: no write lock for nothing)."""
    with get_engine().connect() as connection:
        pending = connection.execute(_ANY_CHANGE).first() is not None
        connection.rollback()
        if not pending:
            return False
        with connection.begin():
            return fold(connection)


def _unit(district_code: Any, commune_code: Any) -> tuple[Any, Any]:
    """The unit as the triggers key it: (level, code) of app.stats.service._unit_columns."""
    return (
        case((district_code.is_(None), literal("commune")), else_=literal("district")).label(
            "unit_level"
        ),
        func.coalesce(district_code, commune_code, literal("")).label("unit_code"),
    )


@lru_cache(maxsize=1)
def _kept_statement() -> Select[Any]:
    """Built once (its values are bound parameters): building it costs more than running it."""
    zero = [literal(0).label(name) for name in KEPT_FIGURES]

    def of_the_year(table: type[YearlyFigures | FigureChange], *, changes: int) -> Select[Any]:
        """The year's rows of ``table``; ``changes`` counts the unfolded ones."""
        return select(
            table.unit_level,
            table.unit_code,
            *(getattr(table, name).label(name) for name in KEPT_FIGURES),
            literal(0).label("overdue"),
            literal(changes).label("changes"),
        ).where(table.year == bindparam("year"))

    base = of_the_year(YearlyFigures, changes=0)
    changes = of_the_year(FigureChange, changes=1)
    # Running investigations of the year past their deadline, now (ix_investigations_active_
    # occurred: only running investigations, by occurred_at).
    overdue = (
        select(
            *_unit(Investigation.district_code, Investigation.commune_code),
            *zero,
            func.count().label("overdue"),
            literal(0).label("changes"),
        )
        .where(
            statuses_in(ACTIVE),
            Investigation.occurred_at >= bindparam("start"),
            Investigation.occurred_at < bindparam("end"),
            Investigation.due_at < bindparam("now"),
        )
        .group_by(Investigation.district_code, Investigation.commune_code)
    )
    every = union_all(base, changes, overdue).subquery("kept")
    return select(
        every.c.unit_level,
        every.c.unit_code,
        *(func.sum(every.c[name]) for name in (*KEPT_FIGURES, "overdue", "changes")),
    ).group_by(every.c.unit_level, every.c.unit_code)


def kept_rows(
    session: Session, *, year: int, start: datetime, end: datetime, now: datetime
) -> tuple[list[tuple[str, str, list[int]]], int]:
    """Per unit of the year: (level, code, counts in app.stats.service's order, overdue
    included); and how many unfolded changes the read summed."""
    statement = _kept_statement()
    parameters = {"year": year, "start": start, "end": end, "now": now}
    rows: list[tuple[str, str, list[int]]] = []
    unfolded = 0
    for level, code, *sums in session.execute(statement, parameters):
        counts = [int(v or 0) for v in sums]
        unfolded += counts.pop()
        overdue_count = counts.pop()
        named = dict(zip(KEPT_FIGURES, counts, strict=True))
        if not (named["reports"] or named["investigations"]):
            continue  # everything it counted was moved away: the computed figures omit it
        del named["investigations"]
        figures = list(named.values())
        # app.stats.service._Counts order: investigations_open, investigations_overdue, …
        figures.insert(len(figures) - 2, overdue_count)
        # A row without a place is kept under '' (migration 0012); computed, its key is "None".
        rows.append((str(level), str(code) if code else "None", figures))
    return rows, unfolded
