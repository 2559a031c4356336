"""The audit trail's hash chain (Security and privacy: evidence).

Each event commits to the one before it::

    digest = sha256(canonical JSON of the event's columns but id and hash)   (hex)
    hash   = sha256("<previous event's hash>:<id>:<digest>")                 (hex)

with 64 zeros as the hash before the first event. Changing a stored event changes its digest;
removing or reordering events breaks the next event's link; the head row (``audit_chain``:
the last id and hash) catches the removal of the last events. ``tnld verify-audit``
(:func:`verify`) recomputes the whole chain in Python from the stored columns.

How events are chained, with concurrency kept safe and cheap. The chain is a total order, so
appending is serialised on one row, the head, exactly as a year's reference numbers are on
their ``report_sequences`` row; the head is locked only while the events are chained and the
transaction commits, never while a request waits for a thread (README "Concurrency"):

- PostgreSQL: one statement (:func:`postgresql_chain_ctes`) locks the head, links the events
  with the database's own ``sha256()`` (a recursive CTE: each hash needs the previous one),
  inserts them with their id and hash and moves the head; its COMMIT is sent in the same round
  trip (psycopg's pipeline mode). The filing statement (app.reports.single_statement) embeds
  the same CTEs; the ORM paths (amendments, investigations, ``report.read``, keys,
  organisations) stage their events with :func:`app.audit.service.record` and a
  ``before_commit`` hook appends them the same way as the session commits. Python computes
  only each event's digest, from the values it is about to write.
- SQLite: the transaction already holds the database's write lock (``BEGIN IMMEDIATE``, or
  the head's UPDATE as its first write), so the head is read, the events linked in Python and
  written, and the head moved, in that transaction.

The id of an event is its place in the chain, given by the head (not by a sequence): ids are
consecutive, and because the head stays locked until commit, a reader never sees event n+1
committed before event n.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, insert, select, text
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from app.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64

_AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]
#: The columns an event's digest covers, in this order (all but ``id`` and ``hash``).
CONTENT_COLUMNS = (
    "occurred_at",
    "actor_organisation_id",
    "actor_api_key_id",
    "action",
    "object_type",
    "object_id",
    "changes",
)


def _uuid(value: Any) -> str | None:
    return None if value is None else str(uuid.UUID(str(value)))


def _time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an audit event")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """JSON values as any database gives them back: PostgreSQL's jsonb keeps numbers as
    numerics, so ``1.0`` may come back as ``1``; integral floats are hashed as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def content_digest(event: Mapping[Any, Any]) -> str:
    """The hex SHA-256 of an event's content, from the values written or read back."""
    document = [
        _time(event["occurred_at"]),
        _uuid(event.get("actor_organisation_id")),
        _uuid(event.get("actor_api_key_id")),
        str(event["action"]),
        str(event["object_type"]),
        str(event["object_id"]),
        _plain(event.get("changes") or {}),
    ]
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def link(previous_hash: str, event_id: int, digest: str) -> str:
    """The event's hash (what :func:`postgresql_chain_ctes` computes in SQL)."""
    return hashlib.sha256(f"{previous_hash}:{event_id}:{digest}".encode()).hexdigest()


def _sql_link(previous: str, event_id: str, digest: str) -> str:
    return (
        f"encode(sha256(convert_to({previous} || ':' || CAST({event_id} AS text) || ':' || "
        f"{digest}, 'UTF8')), 'hex')"
    )


def postgresql_chain_ctes(*, param: str = "audit", when: str | None = None) -> str:
    """PostgreSQL CTEs that append the events of the JSON array parameter ``:<param>``
    (:func:`events_json`) to the chain: ``audit_head`` (the head, locked), ``audit_link``
    (each event's id and hash), ``audit_rows`` (the inserts), ``audit_moved`` (the head
    moved). The statement must begin ``WITH RECURSIVE``. With ``when``, the name of an earlier
    CTE, nothing is locked or written unless that CTE has a row (and the head is locked after
    it: the filing takes the year's number first, then the head, always in that order).

    A missing head row gives NULL ids, and the insert fails: events are never written
    unchained. Only names from the code are interpolated, never a value."""
    gate = when or "(SELECT 1 AS always)"
    columns = [c.name for c in _AUDIT.columns]
    return f"""audit_head AS (
    -- A row lock returns the head as the last transaction to hold it committed it (READ
    -- COMMITTED re-reads a row it waited for), not as this statement's snapshot saw it.
    SELECT h.last_id, h.last_hash FROM {gate} AS gate LEFT JOIN LATERAL (
        SELECT last_id, last_hash FROM audit_chain WHERE id = 1 AND gate IS NOT NULL FOR UPDATE
    ) AS h ON true
), audit_new AS (
    SELECT e.doc, e.n
    FROM jsonb_array_elements(CAST(:{param} AS jsonb)) WITH ORDINALITY AS e(doc, n)
), audit_link AS (
    SELECT audit_new.n, audit_head.last_id + audit_new.n AS id,
           {
        _sql_link(
            "audit_head.last_hash", "audit_head.last_id + audit_new.n", "(audit_new.doc->>'digest')"
        )
    } AS hash,
           audit_new.doc
    FROM audit_head, audit_new WHERE audit_new.n = 1
    UNION ALL
    SELECT a.n, l.id + 1, {_sql_link("l.hash", "l.id + 1", "(a.doc->>'digest')")}, a.doc
    FROM audit_link AS l JOIN audit_new AS a ON a.n = l.n + 1
), audit_rows AS (
    INSERT INTO audit_events ({", ".join(columns)})
    SELECT {", ".join("v." + c for c in columns)}
    FROM audit_link AS l, jsonb_populate_record(NULL::audit_events,
        l.doc || jsonb_build_object('id', l.id, 'hash', l.hash)) AS v
    RETURNING 1
), audit_moved AS (
    UPDATE audit_chain SET last_id = t.id, last_hash = t.hash
    FROM (SELECT id, hash FROM audit_link ORDER BY n DESC LIMIT 1) AS t
    WHERE audit_chain.id = 1
    RETURNING 1
)"""  # noqa: S608


_APPEND = text(
    "WITH RECURSIVE "  # noqa: S608 (see postgresql_chain_ctes)
    + postgresql_chain_ctes()
    + "\nSELECT (SELECT count(*) FROM audit_rows) AS appended"
)


def _complete(row: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(row) - set(CONTENT_COLUMNS)
    if unknown:
        raise ValueError(f"not content columns of audit_events: {sorted(unknown)}")
    return {**row, "changes": row.get("changes") or {}}


def _json_value(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return _time(value)
    raise TypeError(f"cannot store {type(value).__name__} in an audit event")


def events_json(rows: Iterable[Mapping[str, Any]]) -> str:
    """Events (:func:`app.audit.service.audit_row`) as the JSON array the chain's CTEs read:
    each row's columns and its ``digest``."""
    documents = []
    for row in rows:
        complete = _complete(row)
        documents.append({**complete, "digest": content_digest(complete)})
    return json.dumps(documents, default=_json_value, ensure_ascii=False)


#: The statement in psycopg's own parameter style, for the pipeline.
_APPEND_DRIVER_SQL = str(_APPEND.compile(dialect=psycopg_dialect()))  # type: ignore[no-untyped-call]

_SQLITE_TAKE = text(
    "UPDATE audit_chain SET last_id = last_id + :n WHERE id = 1 RETURNING last_id, last_hash"
)
_SQLITE_MOVE = text("UPDATE audit_chain SET last_hash = :hash WHERE id = 1")


class ChainHeadMissing(RuntimeError):
    """``audit_chain`` has no row: the database was not migrated, or was emptied by hand."""


def append(connection: Connection, rows: list[dict[str, Any]], *, commit: bool = False) -> None:
    """Append events to the chain in the connection's transaction. With ``commit`` the
    transaction commits too (on PostgreSQL in the same round trip as the append, so the head
    stays locked for no longer than that)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _append_postgresql(connection, rows, commit=commit)
    else:
        # With ``commit``, the caller's session commits right after (SQLite sends nothing
        # over a network: there is no round trip to save).
        _append_sqlite(connection, rows)


def _append_postgresql(connection: Connection, rows: list[dict[str, Any]], *, commit: bool) -> None:
    params = {"audit": events_json(rows)}
    if not commit:
        appended = connection.execute(_APPEND, params).scalar_one()
        _check(appended, rows)
        return
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    cursor = driver.cursor()
    # The statement and COMMIT in one round trip: the head is locked for no longer than that.
    # SQLAlchemy does not drive pipelines, so this runs on the driver's connection inside the
    # transaction the session began; the session's own COMMIT then finds nothing to do.
    with driver.pipeline():
        cursor.execute(_APPEND_DRIVER_SQL, params)
        driver.commit()
    row = cursor.fetchone()
    assert row is not None
    _check(row[0], rows)


def _check(appended: Any, rows: list[dict[str, Any]]) -> None:
    if appended != len(rows):
        raise ChainHeadMissing("audit events were not chained: the audit_chain row is missing")


def _append_sqlite(connection: Connection, rows: list[dict[str, Any]]) -> None:
    # The head's UPDATE comes first: in a transaction begun DEFERRED it takes the write lock
    # (waiting on the busy timeout) before anything is read.
    head = connection.execute(_SQLITE_TAKE, {"n": len(rows)}).one_or_none()
    if head is None:
        raise ChainHeadMissing("audit events cannot be chained: the audit_chain row is missing")
    last_id, previous = int(head.last_id) - len(rows), str(head.last_hash)
    chained = []
    for offset, row in enumerate(rows, start=1):
        complete = _complete(row)
        event_id = last_id + offset
        previous = link(previous, event_id, content_digest(complete))
        chained.append({**complete, "id": event_id, "hash": previous})
    connection.execute(insert(AuditEvent), chained)
    connection.execute(_SQLITE_MOVE, {"hash": previous})


def seed(connection: Connection) -> None:
    """The head of an empty chain (migrations and ``create_all`` write it; tests that empty
    every table write it again)."""
    connection.execute(insert(AuditChainHead).values(id=1, last_id=0, last_hash=GENESIS))


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``bad_event`` is None when the chain is intact."""

    events: int
    last_id: int
    last_hash: str
    bad_event: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.bad_event is None


def verify(connection: Connection, *, batch: int = 2000) -> Verdict:
    """Recompute the chain from the stored columns, oldest first, streaming (constant memory)."""
    columns = [_AUDIT.c[name] for name in ("id", *CONTENT_COLUMNS, "hash")]
    previous_id, previous_hash, count = 0, GENESIS, 0
    result = connection.execution_options(yield_per=batch).execute(
        select(*columns).order_by(AuditEvent.id)
    )
    for event in result.mappings():
        event_id = int(event["id"])
        expected = link(previous_hash, event_id, content_digest(event))
        if expected != event["hash"]:
            result.close()
            if previous_id and event_id > previous_id + 1:
                reason = (
                    f"does not follow event {previous_id}: the event(s) between them were "
                    "removed, or it was changed or moved"
                )
            else:
                reason = (
                    "does not match its hash: it was changed, moved (reordered), or an event "
                    "before it was removed"
                )
            return Verdict(count, previous_id, previous_hash, event_id, reason)
        previous_id, previous_hash, count = event_id, str(event["hash"]), count + 1
    head = connection.execute(
        select(AuditChainHead.last_id, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    ).one_or_none()
    if head is None:
        return Verdict(
            count, previous_id, previous_hash, previous_id + 1, "the chain's head row is missing"
        )
    if (int(head.last_id), str(head.last_hash)) != (previous_id, previous_hash):
        if int(head.last_id) > previous_id:
            reason = (
                f"is missing: the chain's head is at event {head.last_id}, the trail ends at "
                f"event {previous_id} (the last events were removed)"
            )
            return Verdict(count, previous_id, previous_hash, previous_id + 1, reason)
        return Verdict(
            count,
            previous_id,
            previous_hash,
            previous_id,
            f"does not match the chain's head (event {head.last_id}, {head.last_hash})",
        )
    return Verdict(count, previous_id, previous_hash)
