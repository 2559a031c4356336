"""Opening the investigation of a newly accepted report.

Law 84/2015 Art. 35 has the provincial team investigate fatal accidents and accidents seriously
injuring two or more workers; tnld opens one investigation per accepted report, so that every
case has its record and, where the Law sets one, its period (Art. 35.6)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app import clock
from app.accidents import Category, Severity
from app.audit.service import audit_row
from app.investigations import periods
from app.investigations.models import InvestigationStatus


def new_investigation(
    *,
    report_id: uuid.UUID,
    reference: str,
    commune_code: str | None,
    district_code: str | None,
    current_commune_codes: list[str],
    category: Category,
    severity: Severity,
    dead: int,
    seriously_injured: int,
    minor_injury: int,
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
        "due_at": periods.due_at(
            received_at=received_at,
            days=periods.base_days(
                dead=dead,
                seriously_injured=seriously_injured,
                minor_injury=minor_injury,
                assessment_required=False,
            ),
        ),
        "extended": False,
        "extension_reason": None,
        "extension_days": None,
        "approved_by": None,
        "category": category,
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
            "due_at": (
                clock.vietnam_time(investigation["due_at"]).isoformat()
                if investigation["due_at"] is not None
                else None
            ),
        },
    )
    return investigation, audit
