from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.fields import LongText, Name, Timestamp
from app.investigations.models import InvestigationStatus
from app.reports.models import Severity

StrictBool = Annotated[bool, Field(strict=True)]


def not_nullable(schema: dict[str, Any]) -> None:
    """OpenAPI for a field that may be absent but not null (``X | None`` in Python, where
    ``None`` means absent and an explicit null is refused by a validator)."""
    options = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])
    schema.pop("default", None)


def refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value


class InvestigationRead(BaseModel):
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
    due_at: Timestamp = Field(
        description="opened_at + base period (30 days fatal, 20 otherwise, 60 with an "
        "assessment), twice the base period once extended"
    )
    extended: bool
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
