"""Report references: ``TNLD-<year>-<6-digit sequence>``, unique and without gaps in a year.

The sequence row of the year is locked from the moment a number is taken until the transaction
commits, so that a rolled-back report gives its number back. The number is taken where the
filing's rows are written, so each row is written once, with its final reference:

- SQLite (app.reports.service, the steps): the filing's transaction holds the database's write
  lock from its first statement (``BEGIN IMMEDIATE``), so taking the number first locks nothing
  more; then the rows are written with it.
- PostgreSQL (app.reports.single_statement): the statement that writes the rows takes the
  number in a CTE (:func:`postgresql_reference_ctes`) and writes it into each row as it inserts
  it; the lock lasts for that statement and its commit.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: Stands in the filing's parameters for the number the statement takes (PostgreSQL); never
#: stored: each row gets the reference as it is inserted.
STAND_IN = "TNLD-UNNUMBERED"


def reference_prefix(year: int) -> str:
    return f"TNLD-{year}-"


def format_reference(year: int, value: int) -> str:
    return f"{reference_prefix(year)}{value:06d}"


def postgresql_reference_ctes(*, when: str | None = None) -> str:
    """PostgreSQL CTEs ``seq`` (the year's next number; the year's row stays locked until the
    transaction ends) and ``ref`` (the reference it gives, as :func:`format_reference` would).
    Parameters ``:year`` and ``:prefix`` (:func:`reference_prefix`). With ``when``, the name of
    an earlier CTE, a number is taken only if that CTE has a row."""
    source = f" FROM {when}" if when else ""
    # Only a CTE name from the code is interpolated, never a value.
    return f"""seq AS (
    INSERT INTO report_sequences (year, last_value) SELECT CAST(:year AS integer), 1{source}
    ON CONFLICT (year) DO UPDATE SET last_value = report_sequences.last_value + 1
    RETURNING last_value
), ref AS (
    SELECT CAST(:prefix AS text)
           || lpad(last_value::text, greatest(6, length(last_value::text)), '0') AS reference
    FROM seq
)"""  # noqa: S608


_NEXT = text(
    "INSERT INTO report_sequences (year, last_value) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_value = report_sequences.last_value + 1 "
    "RETURNING last_value"
)


def take_reference(connection: Connection, *, year: int) -> str:
    """Take the year's next number, in the caller's transaction (its row stays locked until
    that transaction ends: a rolled-back filing gives the number back)."""
    value = connection.execute(_NEXT, {"year": year}).scalar_one()
    return format_reference(year, int(value))
