"""Every model, imported once so that the metadata (and Alembic) knows all tables."""

from app.audit.models import AuditEvent
from app.auth.models import ApiKey, Organisation
from app.db import Base
from app.investigations.models import Investigation
from app.notifications.models import (
    DeadlineAlert,
    DeadlineDigest,
    Delivery,
    DeliveryAttempt,
    Escalation,
    NotificationEvent,
)
from app.ops.models import WorkerHeartbeat
from app.people.models import LoginFailure, User, WebSession
from app.reports.models import IdempotencyRecord, Report, ReportSequence, ReportVersion
from app.stats.models import FigureChange, YearlyFigures

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "DeadlineAlert",
    "DeadlineDigest",
    "Delivery",
    "DeliveryAttempt",
    "Escalation",
    "FigureChange",
    "IdempotencyRecord",
    "Investigation",
    "LoginFailure",
    "NotificationEvent",
    "Organisation",
    "Report",
    "ReportSequence",
    "ReportVersion",
    "User",
    "WebSession",
    "WorkerHeartbeat",
    "YearlyFigures",
]
