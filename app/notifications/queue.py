"""The delivery queue: claiming due deliveries with a lease, and recording each attempt.

A claimed delivery carries ``lease_owner`` and ``lease_expires_at``; while the lease runs no
other worker takes it. A worker that dies (even by SIGKILL) simply stops renewing nothing: its
lease expires and the delivery is claimed again (at least once; the stable ``webhook-id`` and
``Message-ID`` let receivers drop the duplicate). Claiming is race-free on both databases:
PostgreSQL locks the chosen rows with ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick
disjoint sets; SQLite has a single writer (every transaction starts with ``BEGIN IMMEDIATE``,
see app/db.py), so claims are serialised.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrganisationKind
from app.notifications.jobs import Job, Outcome, SendResult
from app.notifications.models import Delivery, DeliveryAttempt, DeliveryStatus

log = logging.getLogger(__name__)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        Delivery.status == DeliveryStatus.pending,
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at <= now),
    )


def claim_due(
    session: Session, *, owner: str, limit: int, now: datetime, lease: timedelta
) -> list[Job]:
    """Lease up to ``limit`` due deliveries to ``owner`` and return what is needed to send them.

    Runs (and commits) its own short transaction on ``session``.
    """
    with session.begin():
        ids = list(
            session.scalars(
                select(Delivery.id)
                .where(_due(now))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                # PostgreSQL: rows another worker is claiming right now are skipped, not waited
                # for. SQLite renders no FOR UPDATE; its write lock already serialises claims.
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(lease_owner=owner, lease_expires_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(Delivery, Organisation)
            .outerjoin(Organisation, Delivery.recipient_id == Organisation.id)
            .where(Delivery.id.in_(ids))
        ).all()
        event_ids = {delivery.event_id for delivery, _ in rows}
        unroutable_events = set(
            session.scalars(
                select(Delivery.event_id).where(
                    Delivery.event_id.in_(event_ids),
                    Delivery.status == DeliveryStatus.unroutable,
                    Delivery.recipient_kind == OrganisationKind.police,
                )
            )
        )
        jobs = [
            Job(
                delivery_id=delivery.id,
                attempts=delivery.attempts,
                schedule_start=delivery.schedule_start,
                channel=delivery.channel,
                recipient_name=delivery.recipient_name,
                recipient_kind=delivery.recipient_kind,
                event_type=delivery.event.type,
                event_created_at=delivery.event.created_at,
                payload=delivery.event.payload,
                # The recipient's channels as they are now, not as they were when the report came.
                emails=list(organisation.notify_emails or []) if organisation else [],
                webhook_url=organisation.webhook_url if organisation else None,
                webhook_secret=organisation.webhook_secret if organisation else None,
                police_unroutable=delivery.event_id in unroutable_events,
            )
            for delivery, organisation in rows
            if delivery.channel is not None
        ]
    jobs.sort(key=lambda job: ids.index(job.delivery_id))
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


def record_result(
    session: Session,
    *,
    job: Job,
    owner: str,
    result: SendResult,
    now: datetime,
    delays: list[timedelta],
    duration_ms: int,
) -> DeliveryStatus | None:
    """Record the attempt and move the delivery on. Returns the new status, or None when the
    lease had been lost meanwhile (the attempt is still recorded; the new holder decides)."""
    values: dict[str, object] = {
        "attempts": job.attempts + 1,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    status = DeliveryStatus.pending
    if result.outcome is Outcome.delivered:
        status = DeliveryStatus.delivered
        values |= {"delivered_at": now, "next_attempt_at": None, "last_error": None}
    else:
        when = (
            None
            if result.outcome is Outcome.failed
            else next_try(job, result, now=now, delays=delays)
        )
        if when is None:
            status = DeliveryStatus.failed
        values |= {"next_attempt_at": when, "last_error": result.error or result.response}
    values["status"] = status
    with session.begin():
        session.add(
            DeliveryAttempt(
                delivery_id=job.delivery_id,
                attempted_at=now,
                worker=owner,
                outcome=Outcome.failed if status is DeliveryStatus.failed else result.outcome,
                response=result.response,
                error=result.error,
                duration_ms=duration_ms,
            )
        )
        changed = session.execute(
            update(Delivery)
            .where(
                Delivery.id == job.delivery_id,
                Delivery.lease_owner == owner,
                Delivery.status == DeliveryStatus.pending,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        log.warning("delivery %s: lease lost before the result was recorded", job.delivery_id)
        return None
    return status


def release_leases(session: Session, *, owner: str) -> int:
    """Give back what ``owner`` claimed but did not finish (a clean stop)."""
    with session.begin():
        result = session.execute(
            update(Delivery)
            .where(Delivery.lease_owner == owner, Delivery.status == DeliveryStatus.pending)
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
