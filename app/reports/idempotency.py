"""Idempotency keys for filings and amendments (contract, Reports; After a crash).

A key is stored, completed with its response, in the same transaction as what its request
wrote, so a stored response always matches stored rows, and a crash leaves nothing "in flight":
the retry finds the key free or completed, never 409. A second request with a key while the
first is being processed gets 409 on PostgreSQL (the key's advisory lock) and waits on SQLite
(the database's write lock), then replays; with a different body, 422. Filings on PostgreSQL
do all of it in one statement (app.reports.single_statement); the rest goes through
:func:`once`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.db import is_postgresql
from app.errors import (
    FieldError,
    IdempotencyKeyReused,
    IdempotentRequestInFlight,
    OutcomeUnknown,
)
from app.reports.models import IdempotencyRecord

IN_FLIGHT = "in_flight"
COMPLETED = "completed"
#: A claim this old belongs to a request whose process died; it may be taken over.
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    location: str | None


@dataclass(frozen=True)
class Outcome:
    """What an idempotent POST answers: the response, and whether it is a replay."""

    status: int
    body: dict[str, Any]
    location: str
    replayed: bool


def replay(stored: StoredResponse) -> Outcome:
    return Outcome(stored.status, stored.body, stored.location or "", replayed=True)


def once(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    key: str,
    digest: str,
    work: Callable[[], StoredResponse],
) -> Outcome:
    """The one way to run an idempotent POST in steps, in ONE transaction: replay what the key
    stored (422 for another body), or do the work and store the key, completed with its
    response, in the work's own transaction, and commit. Nothing is ever left "in flight": a
    crash rolls the whole of it back and the key is free for the retry (contract, After a
    crash). (PostgreSQL filings do the same in one statement: app.reports.single_statement.)

    Two requests with one key do not both do the work: on SQLite the transaction holds the
    database's write lock from its first statement, so the second waits and then replays; on
    PostgreSQL the second finds the key's advisory lock taken (the filing statement's own) and
    gets 409 at once. The key's primary key stays the final guard."""
    for _ in range(3):
        if is_postgresql(session) and not session.scalar(
            select(func.pg_try_advisory_xact_lock(lock_id(organisation_id, key)))
        ):
            session.rollback()
            raise IdempotentRequestInFlight(
                "A request with this Idempotency-Key is still being processed; retry later"
            )
        answer = _lookup(session, organisation_id=organisation_id, key=key, digest=digest)
        if answer is not None:
            session.rollback()  # nothing to write: end the transaction (and free its locks)
            return replay(answer)
        try:
            response = work()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            raise OutcomeUnknown() from error
        record = completed_row(
            organisation_id=organisation_id,
            key=key,
            digest=digest,
            location=response.location or "",
            status=response.status,
        )
        try:
            session.execute(
                insert(IdempotencyRecord), [{**record, "response_body": serialise(response.body)}]
            )
        except IntegrityError:
            session.rollback()  # the key was stored meanwhile: answer from it
            continue
        commit(session)
        return Outcome(response.status, response.body, response.location or "", replayed=False)
    raise IdempotentRequestInFlight("Could not claim the Idempotency-Key; retry later")


def commit(session: Session) -> None:
    """Commit a write whose outcome the client must learn: when the connection is lost during
    the commit, the outcome is unknown (503 ``outcome-unknown``: retry with the same key),
    never a bare 500. (Lost before the commit, nothing was stored, and the answer is the same:
    retry.)"""
    try:
        session.commit()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        raise OutcomeUnknown() from error


def lock_id(organisation_id: uuid.UUID, key: str) -> int:
    """A 64-bit PostgreSQL advisory lock number for (organisation, key)."""
    digest = hashlib.sha256(organisation_id.bytes + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def serialise(body: dict[str, Any]) -> str:
    """A response body as stored in ``idempotency_records.response_body``."""
    return json.dumps(body, ensure_ascii=False)


def completed_row(
    *, organisation_id: uuid.UUID, key: str, digest: str, location: str, status: int = 201
) -> dict[str, Any]:
    """The column values of a key whose 201 response is stored in the same transaction as its
    report (the body is added where the reference is known: app.reports.single_statement)."""
    now = clock.now()
    return {
        "organisation_id": organisation_id,
        "key": key,
        "request_hash": digest,
        "state": COMPLETED,
        "response_status": status,
        "location": location,
        "created_at": now,
        "completed_at": now,
    }


def stored(
    session: Session, *, organisation_id: uuid.UUID, key: str, digest: str
) -> StoredResponse | None:
    """The response stored for a used key, or None when the key is free (again); either way
    the transaction is ended. 422 when it was used with another body, 409 while a request
    holds it."""
    answer = _lookup(session, organisation_id=organisation_id, key=key, digest=digest)
    if answer is not None:
        session.rollback()  # nothing to write: end the transaction (and free SQLite's lock)
    else:
        session.commit()  # the release of a stale claim, if any
    return answer


def _lookup(
    session: Session, *, organisation_id: uuid.UUID, key: str, digest: str
) -> StoredResponse | None:
    """Like :func:`stored`, in the caller's transaction. A claim in flight is one left by an
    older tnld (which committed claims apart): fresh, 409; stale, its request died and the
    claim is deleted here."""
    existing = session.get(IdempotencyRecord, (organisation_id, key), populate_existing=True)
    if existing is None:
        return None
    if existing.request_hash != digest:
        session.rollback()
        raise IdempotencyKeyReused(
            [
                FieldError(
                    header="Idempotency-Key",
                    detail="This key was already used with a different request body",
                )
            ]
        )
    if existing.state == COMPLETED:
        assert existing.response_status is not None
        assert existing.response_body is not None
        return StoredResponse(
            status=existing.response_status,
            body=json.loads(existing.response_body),
            location=existing.location,
        )
    if clock.now() - existing.created_at < STALE_CLAIM:
        session.rollback()
        raise IdempotentRequestInFlight(
            "A request with this Idempotency-Key is still being processed; retry later"
        )
    session.delete(existing)
    session.flush()
    return None
