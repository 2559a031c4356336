from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.accidents import Category, Severity
from app.auth.schemas import OrganisationRef
from app.fields import (
    Address,
    Email,
    InputTimestamp,
    LongText,
    Name,
    NationalId,
    Phone,
    PlaceCode,
    ShortText,
    StrictInt,
    Timestamp,
    not_nullable,
    refuse_null,
)

Gender = Literal["male", "female"]
Employment = Literal["labour_contract", "no_labour_contract"]
Outcome = Literal["dead", "seriously_injured", "minor_injury"]

MAX_VICTIMS = 500
EARLIEST_BIRTH_YEAR = 1900


def _birth_year(value: int) -> int:
    if value < EARLIEST_BIRTH_YEAR:
        raise ValueError(f"must be {EARLIEST_BIRTH_YEAR} or later")
    return value


BirthYear = Annotated[StrictInt, AfterValidator(_birth_year)]


class VictimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name
    gender: Gender
    birth_year: BirthYear
    occupation: ShortText | None = None
    national_id: NationalId | None = None
    employment: Employment | None = Field(
        default=None,
        description="Default: `labour_contract` for an enterprise, `no_labour_contract` "
        "for a commune or district committee.",
    )
    outcome: Outcome
    injury: LongText | None = None


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name
    position: ShortText | None = None
    phone: Phone
    email: Email | None = None


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    occurred_at: InputTimestamp
    commune_code: PlaceCode | None = Field(
        default=None,
        description="For an accident on or after 2025-07-01 (Vietnam time): required, a commune "
        "of map 2025, e.g. `24121` Phường Tân Lập. Before: optional, a commune of map 2024 in "
        "`district_code` (e.g. `24121` was then Phường Tân Hòa, Thành phố Buôn Ma Thuột). See "
        "`GET /divisions?at=`.",
    )
    district_code: PlaceCode | None = Field(
        default=None,
        description="For an accident before 2025-07-01: required, a district of map 2024, e.g. "
        "`643` Thành phố Buôn Ma Thuột or `555` Thành phố Tuy Hòa (Phú Yên). From 2025-07-01 "
        "districts no longer exist: absent or null.",
    )
    commune: ShortText | None = Field(
        default=None, description="The village, hamlet or place name as the reporter knows it"
    )
    address: Address
    summary: LongText
    initial_cause: LongText | None = None
    measures_taken: LongText | None = None
    employer_name: Name | None = None
    victims: Annotated[list[VictimIn], Field(max_length=MAX_VICTIMS)] = Field(default_factory=list)
    reporter: ReporterIn


class VictimOut(BaseModel):
    full_name: str
    gender: Gender
    birth_year: int
    occupation: str | None
    national_id: str | None
    employment: Employment
    outcome: Outcome
    injury: str | None


class ReporterOut(BaseModel):
    full_name: str
    position: str | None
    phone: str
    email: str | None


class DataWarning(BaseModel):
    pointer: str = Field(description="JSON Pointer to the doubtful field in the request body")
    detail: str


class ReportFields(BaseModel):
    """What a report's summary and the whole report share. Read from a ``Report`` (its columns
    and properties) or from a dictionary of the same names (a filing's rows)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str = Field(description="TNLD-<year>-<6-digit sequence>")
    category: Category
    severity: Severity
    dead_count: int
    seriously_injured_count: int
    minor_injury_count: int
    occurred_at: Timestamp
    commune_code: str | None
    district_code: str | None
    place_name: str = Field(
        description="The place's full name on the accident's date, e.g. \"Phường Tân Lập, "
        'Tỉnh Đắk Lắk" (2026) or "Phường Tân Hòa, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk" '
        "(2024)"
    )
    current_commune_codes: list[str] = Field(
        description="The communes of map 2025 covering the place: the commune itself, or the "
        "successors of a 2024 commune or district"
    )
    commune: str | None
    address: str
    summary: str
    initial_cause: str | None
    measures_taken: str | None
    employer_name: str | None
    submitted_by: OrganisationRef
    received_at: Timestamp
    late: bool = Field(
        description="Received more than 24 h after it occurred: a fact, not a finding that the "
        "report was late (Law 84/2015 Art. 34 says 'immediately' and sets no hour count)"
    )
    investigation_id: uuid.UUID | None
    version: int = Field(description="1 as filed; each amendment adds one")
    updated_at: Timestamp
    warnings: list[DataWarning] = Field(
        default_factory=list,
        description="Doubtful but possible data, accepted (an urgent report is never blocked "
        "on it): e.g. a national_id whose 4th digit (sex and century) or 5th-6th digits (year "
        "of birth) disagree with the victim's gender or birth_year. Always present, often empty.",
    )


class ReportRead(ReportFields):
    """The whole report (``GET /reports/{id}``, the 201 of a filing, webhooks)."""

    victims: list[VictimOut]
    reporter: ReporterOut


class ReportSummary(ReportFields):
    """A report in a list: every field but the victims' and the reporter's personal data
    (Security and privacy: lists are summaries; the whole report is one GET away, and that
    read is audited)."""

    victim_count: int


# -- Amendments (app/reports/amendments.py) ---------------------------------------------

#: Fields an amendment may carry (besides ``note``).
AMENDABLE = (
    "commune",
    "address",
    "summary",
    "initial_cause",
    "measures_taken",
    "employer_name",
    "reporter",
    "victims",
)


class AmendmentCreate(BaseModel):
    """Only the fields given change; ``null`` clears an optional text field."""

    model_config = ConfigDict(extra="forbid")

    note: LongText | None = Field(
        default=None, description="Why the report is amended (e.g. the victim died in hospital)"
    )
    commune: ShortText | None = None
    # Required in a report: absent leaves them as they are, null is refused (422).
    address: Address | None = Field(default=None, json_schema_extra=not_nullable)
    summary: LongText | None = Field(default=None, json_schema_extra=not_nullable)
    initial_cause: LongText | None = None
    measures_taken: LongText | None = None
    employer_name: Name | None = None
    reporter: ReporterIn | None = Field(default=None, json_schema_extra=not_nullable)
    victims: Annotated[list[VictimIn], Field(max_length=MAX_VICTIMS)] | None = Field(
        default=None,
        json_schema_extra=not_nullable,
        description="The whole list of victims as it now stands, in the same order: existing "
        "victims corrected in place (e.g. `outcome` from `seriously_injured` to `dead`), new "
        "ones appended. None may be removed.",
    )

    _not_null = field_validator("address", "summary", "reporter", "victims")(refuse_null)


class ChangeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(description="JSON Pointer into the report, e.g. /victims/0/outcome")
    from_: Any = Field(alias="from")
    to: Any


class ReportVersionRead(BaseModel):
    """Read from a ``ReportVersion`` (its columns and properties)."""

    model_config = ConfigDict(from_attributes=True)

    version: int = Field(description="1 as filed; each amendment adds one")
    created_at: Timestamp = Field(description="For version 1, the report's received_at")
    created_by: OrganisationRef
    api_key_id: uuid.UUID | None
    note: str | None
    changes: list[ChangeOut] = Field(description="What this version changed (empty for 1)")
    report: ReportRead = Field(description="The report as it stood at this version")
    warnings: list[DataWarning] = Field(
        description="Doubtful but possible data in the report at this version (accepted, "
        "never blocking): the same list as report.warnings. Always present, often empty."
    )


# -- Evidence --------------------------------------------------------------------------------


class EvidenceVersion(BaseModel):
    version: int
    received_at: Timestamp
    api_key_id: uuid.UUID | None
    body_sha256: str | None = Field(
        description="Hex SHA-256 of the exact bytes of the request body that made this version "
        "(null for versions stored before tnld kept it)"
    )


class EvidenceRead(BaseModel):
    report_id: uuid.UUID
    versions: list[EvidenceVersion]
