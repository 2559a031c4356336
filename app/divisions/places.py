"""A report's place, checked against the map in force on the accident's date (Vietnam time).

Contract, Reports (Place): from 2025-07-01 a place is a commune of map 2025 (districts were
abolished: Resolution 1660/NQ-UBTVQH15 Art. 2); before, a district of map 2024 and optionally one
of its communes. Which map applies is read from the data (a map with a district level asks for a
district), not from a date written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app import clock
from app.divisions.service import Divisions, Level, Unit, divisions
from app.errors import FieldError


@dataclass(frozen=True)
class Place:
    """Where an accident happened, as the map of its date names it."""

    commune_code: str | None
    district_code: str | None
    #: The unit itself (the commune when given, else the district).
    unit: Unit
    #: The full name on the accident's date: "Phường Tân Lập, Tỉnh Đắk Lắk".
    name: str
    #: The communes of today's map covering the place (contract: current_commune_codes).
    current_commune_codes: tuple[str, ...]

    @property
    def in_sentence(self) -> str:
        """The unit's name inside a sentence: "phường Tân Lập"."""
        return self.unit.in_sentence


def accident_date(occurred_at: datetime) -> date:
    """The accident's date in Vietnam time: the date that picks the map."""
    return clock.vietnam_time(occurred_at).date()


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(codes)


def _described(data: Divisions, unit: Unit) -> str:
    return f"{unit.code} ({unit.name})"


def _retired(data: Divisions, code: str, *, on: date) -> str:
    """Why a code is not a commune of a later map: what it was, and what took its area."""
    for old in reversed(data.versions(code)):
        if old.valid_to is not None and old.valid_to < on and old.successors:
            successors = ", ".join(
                _described(data, unit)
                for unit in (data.find(c, on=on) for c in old.successors)
                if unit is not None
            )
            return f"; {old.code} was {old.name} in map {old.map}, now covered by {successors}"
    return ""


def resolve(
    *, commune_code: str | None, district_code: str | None, on: date
) -> tuple[Place | None, list[FieldError]]:
    """The place of an accident on ``on``, or the errors (pointer and a detail naming the map
    that applies) when the codes are not a place of that day's map."""
    data = divisions()
    day = on.isoformat()

    def label() -> str:  # only for an error: not worth computing on every filing
        return data.map_label(on)

    def required(
        code: str | None, level: Level, *, explain_retired: bool = False
    ) -> Unit | FieldError:
        """The unit of ``level`` that ``code`` names on the day, or the error at its field."""
        pointer = f"/{level}_code"
        if code is None:
            return FieldError(
                pointer=pointer,
                detail=f"is required for an accident on {day}: a {level} of {label()}",
            )
        unit = data.find(code, on=on, level=level)
        if unit is None:
            why = _retired(data, code, on=on) if explain_retired else ""
            return FieldError(
                pointer=pointer,
                detail=f"{code} is not a {level} of {label()}, the map in force on {day}{why}",
            )
        return unit

    errors: list[FieldError] = []
    if not data.has_districts(on):
        if district_code is not None:
            hint = _retired(data, district_code, on=on)
            errors.append(
                FieldError(
                    pointer="/district_code",
                    detail=f"must be absent for an accident on {day}: {label()} has "
                    f"no districts; give commune_code{hint}",
                )
            )
        commune = required(commune_code, "commune", explain_retired=True)
        if isinstance(commune, FieldError):
            return None, [*errors, commune]
        if errors:
            return None, errors
        return _place(data, commune, commune_code=commune_code, district_code=None), []

    district = required(district_code, "district")
    if isinstance(district, FieldError):
        return None, [district]
    if commune_code is None:
        return _place(data, district, commune_code=None, district_code=district_code), []
    in_district = data.find(commune_code, on=on, level="commune")
    if in_district is None or in_district.parent_code != district_code:
        errors.append(
            FieldError(
                pointer="/commune_code",
                detail=f"{commune_code} is not a commune of district {district_code} "
                f"({district.name}) in {label()}, the map in force on {day}",
            )
        )
        return None, errors
    return _place(data, in_district, commune_code=commune_code, district_code=district_code), []


def _place(
    data: Divisions, unit: Unit, *, commune_code: str | None, district_code: str | None
) -> Place:
    return Place(
        commune_code=commune_code,
        district_code=district_code,
        unit=unit,
        name=data.full_name(unit),
        current_commune_codes=data.current_communes(unit),
    )


def stored_place(*, commune_code: str | None, district_code: str | None, on: date) -> Place:
    """The place of a stored report (checked when it was filed)."""
    place, errors = resolve(commune_code=commune_code, district_code=district_code, on=on)
    if place is None:
        raise ValueError(f"not a place on {on}: {errors}")
    return place


def in_sentence(place_name: str) -> str:
    """A full place name as it reads inside a sentence, each unit type in lower case:
    "Phường Tân Lập, Tỉnh Đắk Lắk" -> "phường Tân Lập, tỉnh Đắk Lắk" (a name standing alone
    keeps its capital)."""
    types = sorted({unit.type for unit in divisions().units}, key=len, reverse=True)
    parts = []
    for part in place_name.split(", "):
        for type_ in types:
            if part.startswith(type_ + " "):
                part = type_.lower() + part[len(type_) :]
                break
        parts.append(part)
    return ", ".join(parts)
