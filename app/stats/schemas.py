from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.fields import Timestamp


class Figures(BaseModel):
    reports: int = Field(description="Reports of accidents and incidents that occurred in the year")
    labour_accidents: int = Field(description="Reports of labour accidents")
    fatal_accidents: int = Field(description="Labour accidents with at least one dead victim")
    deaths: int = Field(description="Dead in labour accidents")
    seriously_injured: int = Field(description="Seriously injured in labour accidents")
    technical_incidents: int = Field(
        description="Serious technical incidents (counted apart from labour accidents, Law "
        "84/2015 Art. 19: one with deaths is not a fatal labour accident)"
    )
    technical_incidents_fatal: int = Field(
        description="Serious technical incidents with at least one dead victim"
    )
    technical_incident_deaths: int = Field(description="Dead in serious technical incidents")
    technical_incident_seriously_injured: int = Field(
        description="Seriously injured in serious technical incidents"
    )
    investigations_open: int = Field(description="Investigations open or in progress now")
    investigations_overdue: int = Field(
        description="Investigations open or in progress and past their due_at now"
    )
    investigations_concluded: int = Field(description="Investigations concluded or closed")
    fatal_accidents_concluded: int = Field(
        description="Fatal labour accidents whose investigation is concluded or closed"
    )
    fatal_concluded_share: float | None = Field(
        description="fatal_accidents_concluded / fatal_accidents (0..1, 4 decimals); null "
        "without fatal accidents. Plan target: 100% of fatal accidents investigated."
    )


class DistrictFigures(Figures):
    district_code: str
    district_name: str


class StatsRead(BaseModel):
    year: int
    basis: str = Field(
        description="Which reports count for the year: those whose accident occurred in it "
        "(occurred_at, Vietnam time)"
    )
    scope: Literal["province", "district"]
    as_of: Timestamp = Field(
        description="Investigation figures (open, overdue, concluded) are as of this moment"
    )
    districts: list[DistrictFigures]
    total: Figures = Field(description="The province (inspectorate) or the caller's district")
