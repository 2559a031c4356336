from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.auth.schemas import OrganisationRef
from app.fields import (
    Address,
    DistrictCode,
    Email,
    InputTimestamp,
    LongText,
    Name,
    NationalId,
    Phone,
    ShortText,
    StrictInt,
    Timestamp,
)
from app.reports.models import Category, Severity

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
        "for a district committee.",
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
    district_code: DistrictCode
    commune: ShortText | None = None
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


class ReportRead(BaseModel):
    id: uuid.UUID
    reference: str = Field(description="TNLD-<year>-<6-digit sequence>")
    category: Category
    severity: Severity
    dead_count: int
    seriously_injured_count: int
    minor_injury_count: int
    occurred_at: Timestamp
    district_code: str
    commune: str | None
    address: str
    summary: str
    initial_cause: str | None
    measures_taken: str | None
    employer_name: str | None
    victims: list[VictimOut]
    reporter: ReporterOut
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
