"""Statutory investigation deadlines (Law 84/2015, Art. 35; DOMAIN.md, Investigation).

From receipt of the notification to the announcement of the investigation record: 30 days
for a fatal accident, 20 days otherwise (two or more seriously injured), 60 days where a
technical assessment or forensic examination is needed. One extension of at most the base
period may be approved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.reports.models import Severity

FATAL_DAYS = 30
SERIOUS_DAYS = 20
ASSESSMENT_DAYS = 60


def base_period(*, severity: Severity, assessment_required: bool) -> timedelta:
    if assessment_required:
        return timedelta(days=ASSESSMENT_DAYS)
    return timedelta(days=FATAL_DAYS if severity is Severity.fatal else SERIOUS_DAYS)


def due_at(
    *, opened_at: datetime, severity: Severity, assessment_required: bool, extended: bool
) -> datetime:
    """The deadline, always recomputed from the original receipt time."""
    period = base_period(severity=severity, assessment_required=assessment_required)
    return opened_at + period * (2 if extended else 1)
