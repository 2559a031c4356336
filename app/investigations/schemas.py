from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accidents import Severity
from app.fields import LongText, Name, StrictInt, Timestamp, not_nullable, refuse_null
from app.investigations.models import InvestigationStatus

StrictBool = Annotated[bool, Field(strict=True)]


class InvestigationRead(BaseModel):
    """Read from an ``Investigation`` (its columns and ``overdue``)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    report_id: uuid.UUID
    reference: str = Field(description="The report's reference")
    commune_code: str | None = Field(description="The report's commune (map of its date)")
    district_code: str | None = Field(description="The report's district (map 2024 only)")
    current_commune_codes: list[str] = Field(
        description="The communes of map 2025 covering the report's place"
    )
    severity: Severity = Field(description="The report's current severity")
    status: InvestigationStatus
    lead_inspector: str | None
    assessment_required: bool = Field(
        description="A technical assessment or forensic examination is needed: the base "
        "period is then 60 days (Law 84/2015, Art. 35)"
    )
    findings: str | None
    conclusion: str | None
    opened_at: Timestamp = Field(description="The report's received_at: deadlines run from it")
    due_at: Timestamp | None = Field(
        description="The end (24:00 Vietnam time, shown as the next day's 00:00+07:00) of "
        "roll(received date + base period + extension_days), where roll moves a Saturday, Sunday "
        "or public holiday to the next working day (Civil Code 2015 Arts. 147–148). Null where "
        "the Law sets no period (no victims). Base period (Law 84/2015 Art. 35.6): 30 days "
        "if anyone died, 20 two or more seriously injured, 7 one seriously injured, 4 minor "
        "injuries only, 60 once assessment_required."
    )
    extended: bool
    extension_days: int | None = Field(description="The extension's days; null until extended")
    approved_by: str | None = Field(description="Who approved the extension")
    overdue: bool = Field(
        description="Computed at the time of the request: open or in progress and past due_at"
    )
    concluded_at: Timestamp | None
    updated_at: Timestamp


class InvestigationUpdate(BaseModel):
    """Fields absent are left as they are; ``null`` clears ``lead_inspector``, ``findings`` or
    ``conclusion``."""

    model_config = ConfigDict(extra="forbid")

    # Absent leaves them as they are; null is refused (422).
    status: InvestigationStatus | None = Field(
        default=None,
        json_schema_extra=not_nullable,
        description="One step forward only: open → in_progress → concluded → closed. The "
        "current status is accepted as no change.",
    )
    lead_inspector: Name | None = None
    assessment_required: StrictBool | None = Field(
        default=None,
        json_schema_extra=not_nullable,
        description="Setting or clearing it recomputes due_at from opened_at.",
    )
    findings: LongText | None = None
    conclusion: LongText | None = Field(
        default=None, description="Required (here or already stored) to move to `concluded`."
    )

    _not_null = field_validator("status", "assessment_required")(refuse_null)


class ExtensionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: LongText = Field(description="Why the extension was approved")
    approved_by: Name = Field(
        description="Who approved it: the head of the body that set up the team "
        "(Law 84/2015, Art. 35.6)"
    )
    days: StrictInt | None = Field(
        default=None,
        json_schema_extra=not_nullable,
        description="1 up to the base period in force; default: the base period",
    )

    _not_null = field_validator("days")(refuse_null)
