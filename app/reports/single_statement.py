"""Filing a report on PostgreSQL in one statement.

Filing is the service's hot path, and its cost is the number of statements the process sends
(each costs far more CPU in the driver and SQLAlchemy than the database spends on it). Here the
rows that :mod:`app.reports.service` builds (report and its current communes, investigation,
outbox event and deliveries, audit events — chained, app.audit.chain —, the Idempotency-Key's
stored response) are written
with one statement of
data-modifying CTEs, which also takes the year's reference number (the deliveries' trigger wakes
the notification worker: app.notifications.outbox), and whose COMMIT travels in the same round
trip. The year's sequence row is then locked
only for that statement and its commit, not while a thread waits for the GIL.

Idempotency (contract, Reports): the key is guarded by a transaction-level advisory lock on
(organisation, key) (tnld takes no other advisory locks). A second request with the same key
while the first's statement and commit run finds the lock taken and gets 409 at once. If the
key is already stored, nothing is written and the caller answers from the stored record (replay,
or 422 for a different body: :func:`app.reports.idempotency.stored`). The primary key of
``idempotency_records`` stays the final guard: a duplicate that slips between snapshot and lock
fails on it, writes nothing, and is answered from the stored record too.

Every row is written once, with its final reference: each insert takes it from the ``ref`` CTE.
This is the only way a filing is written on PostgreSQL; SQLite (one writer at a time, no round
trips) files in steps (app.reports.service).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Column, Connection, Table, text
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from app.audit import chain
from app.audit.models import AuditEvent
from app.errors import OutcomeUnknown
from app.investigations.models import Investigation
from app.notifications.models import Delivery, NotificationEvent
from app.reports import numbering
from app.reports.idempotency import lock_id
from app.reports.models import IdempotencyRecord, Report, ReportCommune


def _inserted(column: Column[Any]) -> bool:
    # Serial keys would be the database's to assign (audit events take their ids from the
    # chain's head, app.audit.chain).
    return column.autoincrement is not True


def _insert(table: Table, source: str) -> str:
    """``INSERT INTO table (cols) SELECT v.cols FROM ref, <source> AS v``: one row, or a set
    of rows, typed by the table's own record type from JSON; only when ``ref`` has a row.

    Only the models' own table and column names are interpolated, never a value."""
    columns = [c.name for c in table.columns if _inserted(c)]
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join('v.' + c for c in columns)} FROM ref, {source} AS v RETURNING 1"
    )


_REPORTS: Table = Report.__table__  # type: ignore[assignment]
_REPORT_COMMUNES: Table = ReportCommune.__table__  # type: ignore[assignment]
_INVESTIGATIONS: Table = Investigation.__table__  # type: ignore[assignment]
_EVENTS: Table = NotificationEvent.__table__  # type: ignore[assignment]
_DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]
_IDEMPOTENCY: Table = IdempotencyRecord.__table__  # type: ignore[assignment]
_IDEMPOTENCY_KEY = _IDEMPOTENCY.primary_key.name

#: The reference field of the stored 201 body before the statement has taken the number
#: (``idempotency.serialise`` writes ``"key": value``). Only the body's own top-level field can
#: match: quotes inside any text of the report are escaped (``\"``) in the JSON.
STAND_IN_FIELD = f'"reference": "{numbering.STAND_IN}"'

_CLAIM = """
claim_lock AS (
    SELECT pg_try_advisory_xact_lock(CAST(:lock_id AS bigint)) AS taken
), unused AS (
    SELECT 1 FROM claim_lock
    WHERE taken AND NOT EXISTS (
        SELECT 1 FROM idempotency_records
        WHERE organisation_id = CAST(:organisation_id AS uuid) AND key = CAST(:key AS text)
    )
), """ + numbering.postgresql_reference_ctes(when="unused")  # noqa: S608

_ROWS = {
    "k": _insert(
        _IDEMPOTENCY,
        "jsonb_populate_record(NULL::idempotency_records, CAST(:idempotency AS jsonb)"
        " || jsonb_build_object('response_body',"
        " replace(CAST(:response_body AS text), CAST(:stand_in AS text),"
        " '\"reference\": \"' || ref.reference || '\"')))",
    ),
    "r": _insert(
        _REPORTS,
        "jsonb_populate_record(NULL::reports,"
        " CAST(:report AS jsonb) || jsonb_build_object('reference', ref.reference))",
    ),
    "c": _insert(
        _REPORT_COMMUNES,
        "jsonb_populate_recordset(NULL::report_communes, CAST(:communes AS jsonb))",
    ),
    "i": _insert(
        _INVESTIGATIONS,
        "jsonb_populate_record(NULL::investigations,"
        " CAST(:investigation AS jsonb) || jsonb_build_object('reference', ref.reference))",
    ),
    "e": _insert(
        _EVENTS,
        "jsonb_populate_record(NULL::notification_events,"
        " jsonb_set(CAST(:event AS jsonb), '{payload,reference}', to_jsonb(ref.reference)))",
    ),
    "d": _insert(
        _DELIVERIES, "jsonb_populate_recordset(NULL::deliveries, CAST(:deliveries AS jsonb))"
    ),
}

#: Data-modifying CTEs all run, to completion, whether or not the final SELECT reads them; each
#: insert reads ``ref``, which is empty unless the key was free and a number was taken. Foreign
#: keys between the rows are checked at the end of the statement.
FILE_REPORT = text(
    "WITH RECURSIVE "  # noqa: S608 (see _insert); RECURSIVE: the audit chain's links
    + _CLAIM
    + "".join(f",\n{name} AS (\n    {statement}\n)" for name, statement in _ROWS.items())
    # The audit events, chained after the year's number is taken (app.audit.chain): the
    # chain's head is locked, as the year's row, only for this statement and its commit.
    + ",\n"
    + chain.postgresql_chain_ctes(when="ref")
    + """
SELECT taken,
       (SELECT reference FROM ref) AS reference
FROM claim_lock
"""
)


#: The statement in psycopg's own parameter style (``%(name)s``).
_DRIVER_SQL = str(FILE_REPORT.compile(dialect=psycopg_dialect()))  # type: ignore[no-untyped-call]


def _json_value(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a row")
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def row_json(table: Table, row: dict[str, Any] | list[dict[str, Any]]) -> str:
    """Rows as JSON for ``jsonb_populate_record(set)``, with the columns' Python-side defaults
    applied (a plain INSERT would apply them; a column left out would be NULL)."""
    rows = row if isinstance(row, list) else [row]
    complete = []
    for values in rows:
        unknown = set(values) - set(table.c.keys())
        if unknown:
            raise ValueError(f"not columns of {table.name}: {sorted(unknown)}")
        filled = dict(values)
        for column in table.columns:
            if column.name in filled or not _inserted(column) or column.default is None:
                continue
            default: Any = column.default
            filled[column.name] = default.arg(None) if default.is_callable else default.arg
        complete.append(filled)
    document = complete if isinstance(row, list) else complete[0]
    return json.dumps(document, default=_json_value, ensure_ascii=False)


def file_report(
    connection: Connection,
    *,
    organisation_id: uuid.UUID,
    idempotency_key: str,
    idempotency_row: dict[str, Any],
    response_body: str,
    year: int,
    report: dict[str, Any],
    communes: list[dict[str, Any]],
    investigation: dict[str, Any],
    event: dict[str, Any],
    deliveries: list[dict[str, Any]],
    audit: list[dict[str, Any]],
) -> tuple[bool, str | None]:
    """Write everything and commit, in the transaction the caller's session began.

    Returns (lock taken, reference). No reference means nothing was written: with the lock not
    taken, a request with this key is in flight; with it taken, the key is already used. A
    duplicate key found by the primary key also writes nothing (the error is caught here and
    the caller's transaction must be rolled back)."""
    params = {
        "lock_id": lock_id(organisation_id, idempotency_key),
        "organisation_id": organisation_id,
        "key": idempotency_key,
        "year": year,
        "prefix": numbering.reference_prefix(year),
        "idempotency": row_json(_IDEMPOTENCY, idempotency_row),
        "response_body": response_body,
        "stand_in": STAND_IN_FIELD,
        "report": row_json(_REPORTS, report),
        "communes": row_json(_REPORT_COMMUNES, communes),
        "investigation": row_json(_INVESTIGATIONS, investigation),
        "event": row_json(_EVENTS, event),
        "deliveries": row_json(_DELIVERIES, deliveries),
        "audit": chain.events_json(audit),
    }
    # The statement and its COMMIT go out together (psycopg's pipeline mode): one round trip
    # instead of two, and the year's sequence row is locked for no longer than that.
    # SQLAlchemy does not drive pipelines, so this runs on the driver's connection, inside the
    # transaction that the session began; the session's own commit then finds nothing to do.
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    cursor = driver.cursor()
    try:
        with driver.pipeline():
            cursor.execute(_DRIVER_SQL, params)
            driver.commit()
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name != _IDEMPOTENCY_KEY:
            raise
        return True, None
    except psycopg.OperationalError as error:
        if not driver.closed:
            raise
        # The connection was lost with the statement and its COMMIT in flight: the report may
        # or may not be stored (contract, After a crash). The pool must not reuse it.
        connection.invalidate()
        raise OutcomeUnknown() from error
    row = cursor.fetchone()
    assert row is not None
    taken, reference = row
    return bool(taken), reference
