"""Opening the investigation of a newly accepted report (Law 84/2015, Art. 35: every fatal
accident and every accident seriously injuring two or more workers is investigated)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app import clock
from app.audit.service import audit_row
from app.investigations.deadlines import due_at
from app.investigations.models import InvestigationStatus
from app.reports.models import Severity


def new_investigation(
    *,
    report_id: uuid.UUID,
    reference: str,
    commune_code: str | None,
    district_code: str | None,
    current_commune_codes: list[str],
    severity: Severity,
    occurred_at: datetime,
    received_at: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column values of the investigation of a newly accepted report, and of its audit
    event; the report's filing writes both in its own transaction.

    Deadlines run from the report's receipt."""
    investigation: dict[str, Any] = {
        "id": uuid.uuid4(),
        "report_id": report_id,
        "reference": reference,
        "commune_code": commune_code,
        "district_code": district_code,
        "current_commune_codes": current_commune_codes,
        "severity": severity,
        "status": InvestigationStatus.open,
        "assessment_required": False,
        "occurred_at": occurred_at,
        "opened_at": received_at,
        "due_at": due_at(
            opened_at=received_at,
            severity=severity,
            assessment_required=False,
            extended=False,
        ),
        "extended": False,
        "updated_at": received_at,
        "version": 1,
    }
    # Opened by the service itself (no actor): the filing is audited as report.filed.
    audit = audit_row(
        actor=None,
        action="investigation.opened",
        object_type="investigation",
        object_id=investigation["id"],
        changes={
            "report_id": str(report_id),
            "severity": severity.value,
            "due_at": clock.vietnam_time(investigation["due_at"]).isoformat(),
        },
    )
    return investigation, audit
