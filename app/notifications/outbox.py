"""The transactional outbox: events and their deliveries are written in the caller's
transaction, so a report is never stored without its deliveries and a delivery never exists
for a report that was rolled back. Nothing is sent here; the worker sends.

What the rows say is decided here, once: which deliveries are unroutable (and why), and whether
the police could not be reached (the event's ``police_unroutable``: the inspectorate's e-mail
says so; the worker only reads it).

The worker is woken one way: on PostgreSQL, a trigger on ``deliveries`` (migration 0011)
NOTIFYs :data:`WAKE_CHANNEL` when a delivery becomes due to send, delivered to the worker's
LISTEN when the transaction commits, however the row was written (this module, the filing
statement, a manual retry). SQLite has no NOTIFY: the worker polls
(``TNLD_WORKER_POLL_SECONDS``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app import clock
from app.auth.models import OrganisationKind
from app.notifications.models import Delivery, DeliveryStatus, NotificationEvent
from app.notifications.routing import Route

#: PostgreSQL channel the worker LISTENs on (and migration 0011's trigger NOTIFYs).
WAKE_CHANNEL = "tnld_deliveries"
#: Why a delivery is unroutable, by the kind of recipient that could not be found.
UNROUTABLE = {
    OrganisationKind.police: "No police organisation covers this place",
    OrganisationKind.commune_committee: "No commune committee with a channel covers this place",
}


def outbox_rows(
    *,
    report_id: uuid.UUID | None,
    event_type: str,
    payload: dict[str, Any],
    routes: list[Route],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The column values of an event and of its deliveries, one per route."""
    now = clock.now()
    event = {
        "id": uuid.uuid4(),
        "report_id": report_id,
        "type": event_type,
        "payload": payload,
        "created_at": now,
        "police_unroutable": any(
            route.organisation_id is None and route.kind is OrganisationKind.police
            for route in routes
        ),
    }
    deliveries = []
    for route in routes:
        routable = route.organisation_id is not None
        deliveries.append(
            {
                "id": uuid.uuid4(),
                "event_id": event["id"],
                "report_id": report_id,
                "recipient_id": route.organisation_id,
                "recipient_name": route.name,
                "recipient_kind": route.kind,
                "channel": route.channel,
                "status": DeliveryStatus.pending if routable else DeliveryStatus.unroutable,
                "attempts": 0,
                "schedule_start": 0,
                "next_attempt_at": now if routable else None,
                "last_error": None if routable else UNROUTABLE.get(route.kind, "No recipient"),
                "created_at": now,
            }
        )
    return event, deliveries


def enqueue(
    session: Session,
    *,
    report_id: uuid.UUID | None,
    event_type: str,
    payload: dict[str, Any],
    routes: list[Route],
) -> uuid.UUID:
    """Write an event and its deliveries; returns the event's id."""
    event, deliveries = outbox_rows(
        report_id=report_id, event_type=event_type, payload=payload, routes=routes
    )
    write(session, event, deliveries)
    return uuid.UUID(str(event["id"]))


def write(session: Session, event: dict[str, Any], deliveries: list[dict[str, Any]]) -> None:
    """Every outbox row is written here (rows from :func:`outbox_rows`), in the caller's
    transaction; the only other writer is PostgreSQL's one-statement filing
    (app/reports/single_statement.py), which inserts the same rows. On PostgreSQL the
    deliveries' trigger wakes the worker when the transaction commits (migration 0011)."""
    session.execute(insert(NotificationEvent), [event])
    if deliveries:
        session.execute(insert(Delivery), deliveries)
