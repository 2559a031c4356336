"""The delivery queue: claiming due deliveries with a lease, and recording each attempt.

A claim is a batch: one transaction picks the due deliveries with everything needed to send
them and leases them to a *claim token* (``lease_owner``: the worker's name and a number new for
every claim). While the lease runs no other claim takes them; the worker renews the leases of
what it is still sending, so a lease never runs out under a send in flight. A worker that dies
(even by SIGKILL) stops renewing: its leases expire and the deliveries are claimed again (at
least once; the stable ``webhook-id`` and ``Message-ID`` let receivers drop the duplicate).

Recording is fenced by the token: a result is recorded (the attempt row and the delivery's new
state, in one transaction for the whole batch) only while the delivery is still leased to the
claim that sent it. A stale claim, whose lease expired and was taken by another, records
nothing; the current holder decides.

Claiming is race-free on both databases: PostgreSQL locks the chosen rows with ``FOR UPDATE
SKIP LOCKED`` so concurrent workers pick disjoint sets; SQLite has a single writer (every
transaction starts with ``BEGIN IMMEDIATE``, see app/db.py), so claims are serialised.
No ORM object is made per delivery: rows in, plain values out.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from app.auth.models import Organisation
from app.notifications.jobs import Job, Outcome, SendResult
from app.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    NotificationEvent,
)
from app.notifications.registry import SENDERS, organisation_columns

log = logging.getLogger(__name__)

#: Who a delivery goes to, for bounding the sends one recipient can hold at once.
RecipientKey = tuple[uuid.UUID | None, Channel]


#: What the claim reads of the recipient: every channel's address columns.
_ADDRESS_COLUMNS = [getattr(Organisation, c) for c in organisation_columns(sending=True)]


def _no_commit_wait(connection: Connection) -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk.

    Claims and records only: what a database crash could lose of them (the last fraction of a
    second) is a lease, after which the delivery is claimed again, or a result, after which it
    is sent again; delivery is at least once and receivers drop the copy by its stable id. The
    outbox rows themselves (the report's transaction) keep the durable commit. The worker's
    commits then cost no disk flush each, which on a busy machine was most of their time."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        Delivery.status == DeliveryStatus.pending,
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at <= now),
    )


def claim_batch(
    connection: Connection,
    *,
    token: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    per_recipient: int,
    busy: dict[RecipientKey, int] | None = None,
) -> list[Job]:
    """Lease up to ``limit`` due deliveries to ``token`` and return what is needed to send them.

    At most ``per_recipient`` sends per recipient and channel, counting the ``busy`` ones the
    caller is already sending: a recipient that is slow or hangs holds its own share of the
    senders, never the others'. Runs (and commits) its own transaction on ``connection``.
    """
    busy = busy or {}
    full = [key for key, count in busy.items() if count >= per_recipient]
    # The due deliveries, in the order the due index gives (no sort, no join: a backlog of
    # thousands costs what a few rows cost), locked; then what sending needs, for those only.
    picked = (
        select(Delivery.id)
        .where(_due(now), Delivery.channel.is_not(None))
        .order_by(Delivery.next_attempt_at)
        # A recipient's share may cut a batch: look a little further than the batch.
        .limit(limit * 2)
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        # SQLite renders no FOR UPDATE; its write lock already serialises claims.
        .with_for_update(skip_locked=True)
    )
    if full:
        picked = picked.where(
            ~or_(*(and_(Delivery.recipient_id == r, Delivery.channel == c) for r, c in full))
        )
    stmt = (
        select(
            Delivery.id,
            Delivery.recipient_id,
            Delivery.channel,
            Delivery.attempts,
            Delivery.schedule_start,
            Delivery.recipient_name,
            Delivery.recipient_kind,
            NotificationEvent.id.label("event_id"),
            NotificationEvent.type,
            NotificationEvent.created_at,
            # As text, decoded below once per event rather than once per delivery (an event has
            # up to four deliveries in a claim; decoding was a third of a claim's CPU).
            cast(NotificationEvent.payload, Text).label("payload"),
            NotificationEvent.police_unroutable,
            *_ADDRESS_COLUMNS,
        )
        .join(NotificationEvent, NotificationEvent.id == Delivery.event_id)
        .outerjoin(Organisation, Organisation.id == Delivery.recipient_id)
        .where(Delivery.id.in_(picked.scalar_subquery()))
        .order_by(Delivery.next_attempt_at)
    )
    with connection.begin():
        _no_commit_wait(connection)
        taken: dict[RecipientKey, int] = defaultdict(int, busy)
        jobs: list[Job] = []
        #: Each event's payload, decoded once; its jobs share it (senders only read it).
        payloads: dict[uuid.UUID, dict[str, Any]] = {}
        for row in connection.execute(stmt):
            key = (row.recipient_id, row.channel)
            if taken[key] >= per_recipient:
                continue
            taken[key] += 1
            payload = payloads.get(row.event_id)
            if payload is None:
                payload = payloads[row.event_id] = json.loads(row.payload)
            jobs.append(
                Job(
                    delivery_id=row.id,
                    attempts=row.attempts,
                    schedule_start=row.schedule_start,
                    channel=row.channel,
                    recipient_name=row.recipient_name,
                    recipient_kind=row.recipient_kind,
                    event_type=row.type,
                    event_created_at=row.created_at,
                    payload=payload,
                    # The recipient's address as it is now, not when the report came.
                    address=SENDERS[row.channel].address(row._mapping, now=now),
                    police_unroutable=bool(row.police_unroutable),
                    recipient_id=row.recipient_id,
                    lease_owner=token,
                )
            )
            if len(jobs) == limit:
                break
        if jobs:
            connection.execute(
                update(Delivery)
                .where(Delivery.id.in_([job.delivery_id for job in jobs]))
                .values(lease_owner=token, lease_expires_at=now + lease)
            )
    return jobs


def next_try(
    job: Job, result: SendResult, *, now: datetime, delays: list[timedelta]
) -> datetime | None:
    """When to try again after this attempt, or None when the schedule is used up.

    The first attempt is immediate; after the n-th failed attempt of a round the n-th delay of
    ``TNLD_RETRY_SCHEDULE`` applies, or the receiver's ``Retry-After`` if that is longer.
    """
    made = job.attempts + 1 - job.schedule_start
    if made > len(delays):
        return None
    delay = delays[made - 1]
    if result.retry_after is not None:
        delay = max(delay, result.retry_after)
    return now + delay


@dataclass(frozen=True)
class Finished:
    """One send, done: what to record."""

    job: Job
    result: SendResult
    duration_ms: int
    #: When the attempt ended (the clock of app.clock).
    at: datetime


def _outcome(finished: Finished, delays: list[timedelta]) -> dict[str, object]:
    """The delivery's new values after this attempt (every column the recording sets)."""
    job, result, now = finished.job, finished.result, finished.at
    values: dict[str, object] = {
        "b_id": job.delivery_id,
        "b_attempts": job.attempts + 1,
        "b_delivered_at": None,
        "b_next_attempt_at": None,
        "b_last_error": None,
    }
    if result.outcome is Outcome.delivered:
        values |= {"b_status": DeliveryStatus.delivered, "b_delivered_at": now}
        return values
    when = (
        None if result.outcome is Outcome.failed else next_try(job, result, now=now, delays=delays)
    )
    status = DeliveryStatus.failed if when is None else DeliveryStatus.pending
    values |= {
        "b_status": status,
        "b_next_attempt_at": when,
        "b_last_error": result.error or result.response,
    }
    return values


#: One statement for every delivery of a batch (executemany: on PostgreSQL, psycopg sends the
#: rows in one pipeline). Only rows the fence let through are given to it.
_RECORD = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"))
    .values(
        attempts=bindparam("b_attempts"),
        status=bindparam("b_status"),
        delivered_at=bindparam("b_delivered_at"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        last_error=bindparam("b_last_error"),
        lease_owner=None,
        lease_expires_at=None,
    )
)


def record_batch(
    connection: Connection,
    finished: Sequence[Finished],
    *,
    worker: str,
    delays: list[timedelta],
) -> list[DeliveryStatus | None]:
    """Record every attempt of a batch in one transaction, each moving its delivery on.

    Returns each delivery's new status, or None where the claim had gone stale (its lease
    expired and another claim holds the delivery, or it was released): nothing is recorded
    for it, so a stale claim never overwrites the current holder's result. The fence is one
    locking read of the batch's deliveries still held by their claims; the rows it returns
    stay locked (PostgreSQL; SQLite's write lock covers the transaction) until the commit."""
    if not finished:
        return []
    with connection.begin():
        _no_commit_wait(connection)
        rows = connection.execute(
            select(Delivery.id, Delivery.lease_owner)
            .where(
                Delivery.id.in_([item.job.delivery_id for item in finished]),
                Delivery.status == DeliveryStatus.pending,
            )
            .with_for_update()
        )
        held = {(row.id, row.lease_owner) for row in rows}
        statuses: list[DeliveryStatus | None] = []
        updates: list[dict[str, object]] = []
        attempt_rows: list[dict[str, object]] = []
        for item in finished:
            if (item.job.delivery_id, item.job.lease_owner) not in held:
                log.warning("delivery %s: claim gone stale; not recorded", item.job.delivery_id)
                statuses.append(None)
                continue
            values = _outcome(item, delays)
            status = DeliveryStatus(str(values["b_status"]))
            statuses.append(status)
            updates.append(values)
            attempt_rows.append(
                {
                    "delivery_id": item.job.delivery_id,
                    "attempted_at": item.at,
                    "worker": worker,
                    "outcome": Outcome.failed
                    if status is DeliveryStatus.failed
                    else item.result.outcome,
                    "response": item.result.response,
                    "error": item.result.error,
                    "duration_ms": item.duration_ms,
                }
            )
        if updates:
            connection.execute(_RECORD, updates)
            connection.execute(insert(DeliveryAttempt), attempt_rows)
    return statuses


def renew_leases(
    connection: Connection, *, tokens: Collection[str], now: datetime, lease: timedelta
) -> int:
    """Push back the leases of the claims still being sent (the worker is alive and busy)."""
    if not tokens:
        return 0
    with connection.begin():
        result = connection.execute(
            update(Delivery)
            .where(
                Delivery.lease_owner.in_(list(tokens)),
                Delivery.status == DeliveryStatus.pending,
            )
            .values(lease_expires_at=now + lease)
        )
    return int(result.rowcount)


def release_leases(connection: Connection, *, tokens: Iterable[str]) -> int:
    """Give back what these claims took but did not finish (a clean stop)."""
    tokens = list(tokens)
    if not tokens:
        return 0
    with connection.begin():
        result = connection.execute(
            update(Delivery)
            .where(
                Delivery.lease_owner.in_(tokens),
                Delivery.status == DeliveryStatus.pending,
            )
            .values(lease_owner=None, lease_expires_at=None)
        )
    return int(result.rowcount)
