"""Report references: ``TNLD-<year>-<6-digit sequence>``, unique and without gaps in a year.

The sequence row of the year is locked from the moment a number is taken until the transaction
commits, so that a rolled-back report gives its number back. Every filing waits for that lock,
so it is taken as the very last step: the report and everything that quotes its reference are
first written with a unique placeholder, then one statement takes the number and puts it in
place of the placeholder, and the transaction commits at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text

from app.notifications.outbox import WAKE_CHANNEL

PLACEHOLDER_PREFIX = "PENDING-"


def placeholder(report_id: uuid.UUID) -> str:
    """Stands for the reference until it is known: not a valid reference, unique (96 bits of
    the report's random id), and as short as a reference column allows."""
    return PLACEHOLDER_PREFIX + report_id.hex[:24]


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


# PostgreSQL: one round trip while the lock is held (data-modifying CTEs), and the worker's
# wake-up (pg_notify is delivered on commit).
_POSTGRESQL = text(
    "WITH "  # noqa: S608 (no values interpolated)
    + postgresql_reference_ctes()
    + """, r AS (
    UPDATE reports SET reference = ref.reference FROM ref
    WHERE reports.id = CAST(:report_id AS uuid) RETURNING 1
), i AS (
    UPDATE investigations SET reference = ref.reference FROM ref
    WHERE investigations.report_id = CAST(:report_id AS uuid) RETURNING 1
), e AS (
    UPDATE notification_events
    SET payload = jsonb_set(payload, '{reference}', to_jsonb(ref.reference)) FROM ref
    WHERE notification_events.report_id = CAST(:report_id AS uuid) RETURNING 1
), k AS (
    UPDATE idempotency_records
    SET response_body = replace(response_body, CAST(:placeholder AS text), ref.reference)
    FROM ref
    WHERE organisation_id = CAST(:organisation_id AS uuid) AND key = CAST(:key AS text)
    RETURNING 1
)
SELECT ref.reference, pg_notify(CAST(:channel AS text), '') FROM ref
"""
)

# SQLite: the whole transaction already holds the database's write lock (BEGIN IMMEDIATE).
_SQLITE_NEXT = text(
    "INSERT INTO report_sequences (year, last_value) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_value = last_value + 1 RETURNING last_value"
)
_SQLITE_FILL = [
    text("UPDATE reports SET reference = :reference WHERE id = :report_id"),
    text("UPDATE investigations SET reference = :reference WHERE report_id = :report_id"),
    text(
        "UPDATE notification_events SET payload = json_set(payload, '$.reference', :reference) "
        "WHERE report_id = :report_id"
    ),
    text(
        "UPDATE idempotency_records "
        "SET response_body = replace(response_body, :placeholder, :reference) "
        "WHERE organisation_id = :organisation_id AND key = :key"
    ),
]


def assign_reference(
    connection: Connection,
    *,
    year: int,
    report_id: uuid.UUID,
    organisation_id: uuid.UUID,
    idempotency_key: str,
) -> str:
    """Take the year's next number and replace the report's placeholder with it everywhere."""
    if connection.dialect.name == "postgresql":
        reference = connection.execute(
            _POSTGRESQL,
            {
                "year": year,
                "prefix": reference_prefix(year),
                "report_id": report_id,
                "placeholder": placeholder(report_id),
                "organisation_id": organisation_id,
                "key": idempotency_key,
                "channel": WAKE_CHANNEL,
            },
        ).scalar_one()
        return str(reference)
    value = connection.execute(_SQLITE_NEXT, {"year": year}).scalar_one()
    reference = format_reference(year, int(value))
    params: dict[str, Any] = {
        "reference": reference,
        # SQLite stores UUIDs as 32 hex digits (SQLAlchemy's Uuid type).
        "report_id": report_id.hex,
        "placeholder": placeholder(report_id),
        "organisation_id": organisation_id.hex,
        "key": idempotency_key,
    }
    for statement in _SQLITE_FILL:
        connection.execute(statement, params)
    return reference
