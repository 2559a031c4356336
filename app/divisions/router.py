from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app import clock
from app.divisions.service import divisions
from app.errors import FieldError, ValidationProblem
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["divisions"], route_class=ReleasingRoute)


class DivisionRead(BaseModel):
    code: str = Field(description="GSO code: provinces 2 digits, districts 3, communes 5")
    name: str
    level: Literal["province", "district", "commune"]
    parent_code: str | None = Field(
        description="A 2024 commune's district; a district's or a 2025 commune's province; "
        "null for a province"
    )
    valid_from: date | None = Field(description="First day in force; null before the data")
    valid_to: date | None = Field(description="Last day in force; null while in force")
    successors: list[str] = Field(
        description="For a unit of map 2024: the communes of map 2025 over any part of its "
        "area (an old commune split between two new ones lists both); empty for map 2025"
    )


class DivisionsRead(BaseModel):
    at: date
    items: list[DivisionRead]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationProblem(
            [FieldError(parameter="at", detail="must be a date: YYYY-MM-DD")]
        ) from None


@router.get(
    "/divisions",
    response_model=DivisionsRead,
    responses=problems(422),
    summary="Administrative units in force on a date (no authentication)",
    description="Two maps are kept as dated data. **Map 2024** (until 2025-06-30): province 66 "
    "Đắk Lắk with its 15 districts (e.g. `643` Thành phố Buôn Ma Thuột) and 180 communes, and "
    "province 54 Phú Yên with 9 districts and 106 communes. **Map 2025** (from 2025-07-01): "
    "province 66 Đắk Lắk (including the former Phú Yên) with 102 communes and wards and no "
    "districts (e.g. `24121` Phường Tân Lập). Codes were reused: `24121` was Phường Tân Hòa "
    "in map 2024; a code is a place only with a date.",
)
def list_divisions(
    at: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            description="YYYY-MM-DD; default: today in Vietnam time",
        ),
    ] = None,
) -> DivisionsRead:
    day = _day(at) if at is not None else clock.vietnam_time(clock.now()).date()
    return DivisionsRead(
        at=day,
        items=[
            DivisionRead(
                code=unit.code,
                name=unit.name,
                level=unit.level,
                parent_code=unit.parent_code,
                valid_from=unit.valid_from,
                valid_to=unit.valid_to,
                successors=list(unit.successors),
            )
            for unit in divisions().in_force(day)
        ],
    )
