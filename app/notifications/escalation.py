"""Escalation of silence: a fatal report whose notifications to the labour authority are not
acknowledged within ``TNLD_ACK_ESCALATION`` (default 2 hours) is sent once more to the same
recipients, as ``report.unacknowledged`` ("CHƯA XÁC NHẬN" in the e-mail subject).

Decree 39/2016/NĐ-CP Art. 11: on a fatal accident the labour inspectorate sets up the
investigation team; an inspectorate that has not acknowledged the notice two hours after it was
sent may not have seen it. Once per report (the ``escalations`` row, claimed by its primary key,
whatever the number of workers), through the outbox like every notification.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.accidents import Severity
from app.auth.models import OrganisationKind
from app.notifications.models import Delivery, Escalation, NotificationEvent
from app.notifications.outbox import enqueue
from app.notifications.routing import Route
from app.reports.models import Report

log = logging.getLogger(__name__)

EVENT_TYPE = "report.unacknowledged"
#: Notifications older than the escalation time by more than this are not looked at again:
#: the query stays on a day of the creation-time index, however long the history.
LOOKBACK = timedelta(days=1)


def due_for_escalation(
    session: Session, *, now: datetime, after: timedelta, limit: int = 100
) -> list[uuid.UUID]:
    """Fatal reports whose labour-authority notifications (``report.created``) were created
    more than ``after`` ago, none acknowledged, not yet escalated."""
    cutoff = now - after
    acknowledged = aliased(Delivery)
    query = (
        select(Delivery.report_id)
        .join(NotificationEvent, NotificationEvent.id == Delivery.event_id)
        .join(Report, Report.id == Delivery.report_id)
        .where(
            Delivery.created_at < cutoff,
            Delivery.created_at >= cutoff - LOOKBACK,
            Delivery.recipient_kind == OrganisationKind.inspectorate,
            Delivery.recipient_id.is_not(None),
            NotificationEvent.type == "report.created",
            Report.severity == Severity.fatal,
            ~exists().where(Escalation.report_id == Delivery.report_id),
            ~exists().where(
                and_(
                    acknowledged.report_id == Delivery.report_id,
                    acknowledged.recipient_kind == OrganisationKind.inspectorate,
                    acknowledged.acknowledged_at.is_not(None),
                )
            ),
        )
        .distinct()
        .limit(limit)
    )
    return list(session.scalars(query))


def escalate(session: Session, *, report_id: uuid.UUID, now: datetime) -> bool:
    """Send the report's labour-authority notification once more, marked unacknowledged, to the
    same recipients on the same channels. Raises IntegrityError if it was escalated already
    (by another worker): the caller's transaction is then rolled back, nothing written."""
    session.add(Escalation(report_id=report_id, escalated_at=now))
    session.flush()
    original = session.execute(
        select(NotificationEvent.payload, Delivery.recipient_id, Delivery.channel)
        .join(Delivery, Delivery.event_id == NotificationEvent.id)
        .where(
            NotificationEvent.report_id == report_id,
            NotificationEvent.type == "report.created",
            Delivery.recipient_kind == OrganisationKind.inspectorate,
            Delivery.recipient_id.is_not(None),
        )
    ).all()
    names = dict(
        session.execute(
            select(Delivery.recipient_id, Delivery.recipient_name).where(
                Delivery.report_id == report_id
            )
        ).all()
    )
    routes = [
        Route(recipient_id, channel, names[recipient_id], OrganisationKind.inspectorate)
        for _, recipient_id, channel in original
        if channel is not None
    ]
    if not routes:
        return False
    enqueue(
        session,
        report_id=report_id,
        event_type=EVENT_TYPE,
        payload=original[0].payload,
        routes=routes,
    )
    return True


def escalate_due(session: Session, *, now: datetime, after: timedelta) -> int:
    """Escalate every report due for it; return how many. Each in its own transaction."""
    escalated = 0
    for report_id in due_for_escalation(session, now=now, after=after):
        session.rollback()
        try:
            with session.begin():
                sent = escalate(session, report_id=report_id, now=now)
        except IntegrityError:
            continue  # escalated meanwhile by another worker
        if sent:
            escalated += 1
            log.warning(
                "report %s: labour authority has not acknowledged; notified again",
                report_id,
                extra={"report_id": str(report_id), "event_type": EVENT_TYPE},
            )
    return escalated
