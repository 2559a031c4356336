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


Grouping = Literal["place", "district"]


class UnitFigures(Figures):
    code: str = Field(description="GSO code of the unit (with `map`: a code alone is no place)")
    level: Literal["district", "commune"]
    map: str = Field(description='"2024" (a district, until 2025-06-30) or "2025" (a commune)')
    name: str
    district_codes: list[str] = Field(
        description="The districts of map 2024 the unit is or took area from: one for a "
        "district; several for a 2025 commune that spans old districts (22015 Phường Tuy Hòa: "
        "555, 563)"
    )


class StatsRead(BaseModel):
    year: int
    basis: str = Field(
        description="Which reports count for the year: those whose accident occurred in it "
        "(occurred_at, Vietnam time)"
    )
    by: Grouping = Field(
        description="`place`: accidents from 2025-07-01 by commune of map 2025, earlier ones by "
        "district of map 2024; `district`: 2025 communes rolled up to their old district"
    )
    scope: Literal["province", "area"]
    as_of: Timestamp = Field(
        description="When these figures were read: investigation figures (open, overdue, "
        "concluded) are as of this moment. The province's are kept as reports are written "
        "(current at every read); an area's are kept at most 60 seconds and computed again at "
        "once after any new report, amendment or investigation change"
    )
    units: list[UnitFigures]
    total: Figures = Field(description="The province (inspectorate) or the caller's area")
