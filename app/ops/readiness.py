"""Is this process able to serve: the database reachable and migrated; and, for people and
monitors, how long ago a delivery worker was last alive and how old the oldest pending
delivery is (a stuck worker shows as both growing)."""

from __future__ import annotations

import logging

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.db import get_engine
from app.migrations import database_is_current
from app.notifications.models import Delivery, DeliveryStatus
from app.ops.models import WorkerHeartbeat

log = logging.getLogger(__name__)


#: The oldest pending delivery's creation time. Through the status index: a bare
#: ``min(created_at)`` lets PostgreSQL walk the creation-time index from the oldest row and
#: filter (millions of delivered rows before the first pending one: seconds at a million
#: reports, bench/README.md, Metrics); the expression keeps that index out of the plan.
OLDEST_PENDING = select(func.min(func.coalesce(Delivery.created_at, Delivery.created_at))).where(
    Delivery.status == DeliveryStatus.pending
)


class Readiness(BaseModel):
    status: str
    #: ``ok``, ``unreachable`` or ``not migrated``.
    database: str
    worker_heartbeat_age_seconds: float | None
    oldest_pending_delivery_seconds: float | None


def readiness() -> Readiness:
    try:
        with get_engine().connect() as connection:
            connection.execute(select(1))
    except SQLAlchemyError:
        log.warning("readiness: the database is unreachable")
        return Readiness(
            status="unavailable",
            database="unreachable",
            worker_heartbeat_age_seconds=None,
            oldest_pending_delivery_seconds=None,
        )
    if not database_is_current():
        return Readiness(
            status="unavailable",
            database="not migrated",
            worker_heartbeat_age_seconds=None,
            oldest_pending_delivery_seconds=None,
        )
    now = clock.now()
    with get_engine().connect() as connection:
        beat = connection.execute(select(func.max(WorkerHeartbeat.beat_at))).scalar()
        oldest = connection.execute(OLDEST_PENDING).scalar()
    return Readiness(
        status="ready",
        database="ok",
        worker_heartbeat_age_seconds=None
        if beat is None
        else max(0.0, (now - beat).total_seconds()),
        oldest_pending_delivery_seconds=0.0
        if oldest is None
        else max(0.0, (now - oldest).total_seconds()),
    )
