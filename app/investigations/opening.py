"""Opening the investigation of a newly accepted report (Law 84/2015, Art. 35: every fatal
accident and every accident seriously injuring two or more workers is investigated)."""

from __future__ import annotations

import uuid
from typing import Any

from app import clock
from app.audit.service import audit_row
from app.investigations.deadlines import due_at
from app.investigations.models import Investigation, InvestigationStatus
from app.reports.models import Report


def new_investigation(*, report: Report) -> tuple[Investigation, dict[str, Any]]:
    """The investigation of ``report`` (not yet added to a session) and its audit event.

    Deadlines run from the report's receipt; the report's filing writes both in its own
    transaction."""
    investigation = Investigation(
        id=uuid.uuid4(),
        report_id=report.id,
        reference=report.reference,
        district_code=report.district_code,
        severity=report.severity,
        status=InvestigationStatus.open,
        assessment_required=False,
        occurred_at=report.occurred_at,
        opened_at=report.received_at,
        due_at=due_at(
            opened_at=report.received_at,
            severity=report.severity,
            assessment_required=False,
            extended=False,
        ),
        extended=False,
        updated_at=report.received_at,
        version=1,
    )
    report.investigation = investigation
    # Opened by the service itself (no actor): the filing is audited as report.filed.
    audit = audit_row(
        actor=None,
        action="investigation.opened",
        object_type="investigation",
        object_id=investigation.id,
        changes={
            "report_id": str(report.id),
            "severity": report.severity.value,
            "due_at": clock.vietnam_time(investigation.due_at).isoformat(),
        },
    )
    return investigation, audit
