"""Reading and acting on deliveries: a report's notifications, acknowledgement by the recipient,
and the operators' view of what did not get through (with a manual retry).

Decree 39/2016 Art. 11 gave the inspectorate two hours from a notification to name an
investigator: who was told, when, and who acknowledged is part of the record.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import record
from app.auth.principal import Principal
from app.errors import InvalidTransition, NotFound
from app.notifications.models import Delivery, DeliveryStatus
from app.notifications.schemas import DeliveryRead, RecipientRef, UndeliveredRead
from app.pagination import PageParams, paginate
from app.policy import readable_reports, sees_delivery_errors
from app.reports.models import Report

UNDELIVERED = (DeliveryStatus.failed, DeliveryStatus.unroutable)


_ERROR_CLASS = re.compile(r"^([a-z][a-z0-9_]*)(?::|$)")


def error_class(error: str) -> str:
    """``http_500`` of ``http_500: HTTP 500 Internal Server Error: …``."""
    match = _ERROR_CLASS.match(error)
    return match[1] if match else "error"


def visible_error(delivery: Delivery, principal: Principal | None) -> str | None:
    error = delivery.last_error
    if error is None or principal is None:
        return error
    # A recipient's own errors stay with it and the operators (app/policy.py).
    if sees_delivery_errors(principal) or principal.organisation_id == delivery.recipient_id:
        return error
    return error_class(error)


def to_read(delivery: Delivery, principal: Principal | None = None) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        recipient=RecipientRef(
            id=delivery.recipient_id, name=delivery.recipient_name, kind=delivery.recipient_kind
        ),
        channel=delivery.channel,
        status=delivery.status,
        attempts=delivery.attempts,
        last_error=visible_error(delivery, principal),
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        acknowledged_at=delivery.acknowledged_at,
        event_type=delivery.event.type,
    )


def to_undelivered(delivery: Delivery) -> UndeliveredRead:
    return UndeliveredRead(
        **to_read(delivery).model_dump(),
        report_id=delivery.report_id,
        reference=str(delivery.event.payload.get("reference", "")),
    )


def list_for_report(
    session: Session, *, principal: Principal, report_id: uuid.UUID
) -> Sequence[Delivery]:
    """Every delivery of a report the caller may read (else 404, as if it did not exist)."""
    readable = session.scalar(
        select(Report.id).where(Report.id == report_id, readable_reports(principal))
    )
    if readable is None:
        raise NotFound("No such report")
    return session.scalars(
        select(Delivery)
        .join(Report, Report.id == Delivery.report_id)
        .where(Delivery.report_id == report_id, readable_reports(principal))
        .order_by(
            Delivery.created_at,
            Delivery.recipient_kind.desc(),  # police first, then the inspectorate
            Delivery.recipient_name,
            Delivery.channel,
        )
    ).all()


def acknowledge(session: Session, *, principal: Principal, delivery_id: uuid.UUID) -> Delivery:
    """The recipient organisation confirms it has the notification. Only the recipient may;
    for anyone else the delivery does not exist. A repeat keeps the first time."""
    mine = (Delivery.id == delivery_id) & (Delivery.recipient_id == principal.organisation_id)
    if session.scalar(select(Delivery.id).where(mine)) is None:
        raise NotFound("No such notification")
    now = clock.now()
    first = session.execute(
        update(Delivery)
        .where(mine, Delivery.acknowledged_at.is_(None))
        .values(acknowledged_at=now)
        .execution_options(synchronize_session=False)
    )
    if first.rowcount:  # type: ignore[attr-defined]
        record(
            session,
            actor=principal,
            action="delivery.acknowledged",
            object_type="delivery",
            object_id=delivery_id,
            changes={"acknowledged_at": now.isoformat()},
        )
    # Read before the commit: a read after it would open a transaction that stays open while
    # the response is serialised in another thread.
    delivery = session.scalars(
        select(Delivery).where(mine).execution_options(populate_existing=True)
    ).one()
    session.commit()
    return delivery


def list_undelivered(
    session: Session,
    *,
    statuses: Sequence[DeliveryStatus],
    report_id: uuid.UUID | None,
    params: PageParams,
) -> tuple[list[Delivery], str | None]:
    """Failed and unroutable deliveries across reports, newest first."""
    stmt = select(Delivery).where(Delivery.status.in_(statuses or UNDELIVERED))
    if report_id is not None:
        stmt = stmt.where(Delivery.report_id == report_id)
    return paginate(
        session,
        stmt,
        order=[(Delivery.created_at, datetime), (Delivery.id, uuid.UUID)],
        params=params,
        descending=True,
        key=lambda d: (d.created_at, d.id),
    )


def retry(session: Session, *, principal: Principal, delivery_id: uuid.UUID) -> Delivery:
    """Send a failed delivery again, now, with a fresh retry schedule."""
    delivery = session.scalar(select(Delivery).where(Delivery.id == delivery_id))
    if delivery is None:
        raise NotFound("No such notification")
    if delivery.status is not DeliveryStatus.failed:
        raise InvalidTransition(
            f"Only a failed notification can be retried; this one is {delivery.status}"
        )
    now = clock.now()
    changed = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.failed)
        .values(
            status=DeliveryStatus.pending,
            next_attempt_at=now,
            schedule_start=Delivery.attempts,
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise InvalidTransition("The notification is no longer failed")
    record(
        session,
        actor=principal,
        action="delivery.retried",
        object_type="delivery",
        object_id=delivery_id,
        changes={"status": {"from": "failed", "to": "pending"}},
    )
    session.refresh(delivery)  # before the commit, as in acknowledge()
    session.commit()
    return delivery
