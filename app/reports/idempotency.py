"""Idempotency keys for POST /reports (contract, Reports).

The general path (SQLite, and amendments): a key is claimed in a transaction of its own before
the report is processed, so that a second request with the same key sees it at once: while the
first is in flight it gets 409, after it completed the stored response, and with a different
body 422. The completion is written in the report's own transaction, so a stored response always
matches a stored report. On PostgreSQL a filing claims and completes its key in its one
statement (app.reports.single_statement); a key found already used comes back here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.errors import FieldError, IdempotencyKeyReused, IdempotentRequestInFlight
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
    """The one way to run an idempotent POST in steps: claim the key, or replay what it
    stored; else do the work in the session's transaction, store its response with it and
    commit, or release the claim when anything failed. (PostgreSQL filings do all of it in one
    statement: app.reports.single_statement.)"""
    answer = claim(session, organisation_id=organisation_id, key=key, digest=digest)
    if answer is not None:
        return replay(answer)
    try:
        response = work()
        complete(session, organisation_id=organisation_id, key=key, response=response)
        session.commit()
    except BaseException:
        release(session, organisation_id=organisation_id, key=key)
        raise
    return Outcome(response.status, response.body, response.location or "", replayed=False)


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def serialise(body: dict[str, Any]) -> str:
    """A response body as stored in ``idempotency_records.response_body``."""
    return json.dumps(body, ensure_ascii=False)


def completed_row(
    *, organisation_id: uuid.UUID, key: str, digest: str, location: str
) -> dict[str, Any]:
    """The column values of a key whose 201 response is stored in the same transaction as its
    report (the body is added where the reference is known: app.reports.single_statement)."""
    now = clock.now()
    return {
        "organisation_id": organisation_id,
        "key": key,
        "request_hash": digest,
        "state": COMPLETED,
        "response_status": 201,
        "location": location,
        "created_at": now,
        "completed_at": now,
    }


def claim(
    session: Session, *, organisation_id: uuid.UUID, key: str, digest: str
) -> StoredResponse | None:
    """Claim ``key`` for this request (committed at once), or return the stored response."""
    for _ in range(3):
        session.add(
            IdempotencyRecord(
                organisation_id=organisation_id,
                key=key,
                request_hash=digest,
                state=IN_FLIGHT,
                created_at=clock.now(),
            )
        )
        try:
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        answer = stored(session, organisation_id=organisation_id, key=key, digest=digest)
        if answer is not None:
            return answer
    raise IdempotentRequestInFlight("Could not claim the Idempotency-Key; retry later")


def stored(
    session: Session, *, organisation_id: uuid.UUID, key: str, digest: str
) -> StoredResponse | None:
    """The response stored for a used key, or None when the key is free (again; a stale claim
    is released). 422 when it was used with another body, 409 while its request is in flight.
    Writes nothing but the release of a stale claim."""
    existing = session.get(IdempotencyRecord, (organisation_id, key), populate_existing=True)
    if existing is None:
        session.rollback()
        return None
    if existing.request_hash != digest:
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
        answer = StoredResponse(
            status=existing.response_status,
            body=json.loads(existing.response_body),
            location=existing.location,
        )
        session.rollback()  # nothing to write: end the transaction (and free SQLite's lock)
        return answer
    if clock.now() - existing.created_at < STALE_CLAIM:
        raise IdempotentRequestInFlight(
            "A request with this Idempotency-Key is still being processed; retry later"
        )
    release(session, organisation_id=organisation_id, key=key)
    return None


def complete(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    key: str,
    response: StoredResponse,
) -> None:
    """Store the response, in the caller's (the report's) transaction."""
    completed = session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.organisation_id == organisation_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.state == IN_FLIGHT,
        )
        .values(
            state=COMPLETED,
            response_status=response.status,
            response_body=serialise(response.body),
            location=response.location,
            completed_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    assert completed.rowcount == 1, "complete() without claim()"  # type: ignore[attr-defined]


def release(session: Session, *, organisation_id: uuid.UUID, key: str) -> None:
    """Forget an in-flight claim whose request failed, so the client may retry with the key."""
    session.rollback()
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.organisation_id == organisation_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.state == IN_FLIGHT,
        )
    )
    session.commit()
