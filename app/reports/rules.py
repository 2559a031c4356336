"""The rules of a report, whether filed or amended.

Law 84/2015 Art. 34.1.b and Decree 39/2016 Art. 10: an accident that kills a worker or
seriously injures two or more must be declared immediately, by the fastest means, to the
provincial labour authority and, when someone died, at the same time to the police of the place
(the Law sets no hour count). The Đắk Lắk plan (December 2024, Resolution 209/NQ-CP) also asks
for the police for two or more seriously injured, and for serious technical incidents, which Law
84 Art. 19.2.a has reported to the local government of the place. Only a labour accident must
meet the Art. 34 threshold; a technical incident is accepted with any victims or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app import clock
from app.accidents import Category, Severity
from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.divisions.places import Place, accident_date, resolve
from app.errors import FieldError, NotNotifiable, ValidationProblem
from app.identity_numbers import national_id_doubts
from app.reports.schemas import ReportCreate, VictimIn

#: A clock on the reporter's side may run a little fast; beyond this, a future time is an error.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: "Immediately" (Art. 34) has no hour count in law; ``late`` is the contract's flag for a
#: report received more than this after the accident, a fact, not a finding of lateness (the
#: e-mail gives the hours instead).
LATE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Counts:
    dead: int
    seriously_injured: int
    minor_injury: int

    @property
    def severity(self) -> Severity:
        """Decree 39/2016, Art. 9."""
        if self.dead:
            return Severity.fatal
        if self.seriously_injured:
            return Severity.serious
        if self.minor_injury:
            return Severity.minor
        return Severity.none

    @property
    def notifiable(self) -> bool:
        """Art. 34: a death, or two or more workers seriously injured."""
        return self.dead >= 1 or self.seriously_injured >= 2


def count_outcomes(victims: list[dict[str, Any]]) -> Counts:
    outcomes = [v["outcome"] for v in victims]
    return Counts(
        dead=outcomes.count("dead"),
        seriously_injured=outcomes.count("seriously_injured"),
        minor_injury=outcomes.count("minor_injury"),
    )


#: Committees report workers without labour contracts (Law 84/2015 Art. 34.1.d).
COMMITTEES = (OrganisationKind.commune_committee, OrganisationKind.district_committee)


def report_warnings(victims: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Doubtful but possible data (contract, Reports: accepted, listed, never blocking)."""
    warnings = []
    for index, victim in enumerate(victims):
        national_id = victim.get("national_id")
        if not national_id:
            continue
        for field, detail in national_id_doubts(
            national_id, gender=victim["gender"], birth_year=victim["birth_year"]
        ):
            warnings.append(
                {"pointer": f"/victims/{index}/national_id", "detail": f"{detail} ({field})"}
            )
    return warnings


def default_employment(kind: OrganisationKind) -> str:
    # Enterprises report their own employees; commune (and, before the reform, district)
    # committees report workers without labour contracts.
    return "no_labour_contract" if kind in COMMITTEES else "labour_contract"


def victims_as_stored(victims: list[VictimIn], *, kind: OrganisationKind) -> list[dict[str, Any]]:
    stored = []
    for victim in victims:
        data = victim.model_dump(mode="json")
        data["employment"] = data["employment"] or default_employment(kind)
        stored.append(data)
    return stored


def _committee_area_errors(principal: Principal, place: Place, *, on: Any) -> list[FieldError]:
    """A committee reports at places in its own area only (contract, Reports)."""
    errors: list[FieldError] = []
    if principal.kind is OrganisationKind.commune_committee:
        if principal.commune_code not in place.current_commune_codes:
            pointer = "/commune_code" if place.commune_code else "/district_code"
            errors.append(
                FieldError(
                    pointer=pointer,
                    detail="a commune committee reports accidents at places in its own commune "
                    f"({principal.commune_code}) only",
                )
            )
    elif principal.kind is OrganisationKind.district_committee:
        if place.district_code is None:
            # Districts were abolished on 2025-07-01 (Resolution 1660/NQ-UBTVQH15 Art. 2): the
            # commune committee reports since then (Decree 129/2025 Arts. 44, 47).
            errors.append(
                FieldError(
                    pointer="/occurred_at",
                    detail="a district committee reports accidents before 2025-07-01 only; "
                    "since then the commune committee of the place reports",
                )
            )
        elif place.district_code != principal.district_code:
            errors.append(
                FieldError(
                    pointer="/district_code",
                    detail="a district committee reports accidents in its own district only",
                )
            )
    return errors


def check_report(
    data: ReportCreate,
    *,
    principal: Principal,
    now: datetime,
    victims: list[dict[str, Any]],
    check_place: bool = True,
) -> Place | None:
    """The rules that need context beyond the field itself. Raises 422 problems; returns the
    place, checked against the map in force on the accident's date.

    An amendment cannot change the place, which was checked when the report was filed
    (``check_place=False``): a report filed under v1 keeps its 2024 district whatever its
    date, and stays amendable."""
    errors: list[FieldError] = []
    if data.occurred_at > now + FUTURE_TOLERANCE:
        errors.append(FieldError(pointer="/occurred_at", detail="must not be in the future"))
    on = accident_date(data.occurred_at)
    place: Place | None = None
    if check_place:
        place, place_errors = resolve(
            commune_code=data.commune_code, district_code=data.district_code, on=on
        )
        errors += place_errors
        if place is not None:
            errors += _committee_area_errors(principal, place, on=on)
    if data.category is Category.labour_accident and not victims:
        errors.append(
            FieldError(pointer="/victims", detail="a labour accident needs at least one victim")
        )
    accident_year = clock.vietnam_time(data.occurred_at).year
    for index, victim in enumerate(victims):
        if victim["birth_year"] > accident_year:
            errors.append(
                FieldError(
                    pointer=f"/victims/{index}/birth_year",
                    detail=f"must not be after the year of the accident ({accident_year})",
                )
            )
    if principal.kind in COMMITTEES:
        for index, victim in enumerate(victims):
            if victim["employment"] == "labour_contract":
                errors.append(
                    FieldError(
                        pointer=f"/victims/{index}/employment",
                        detail=f"a {principal.kind.replace('_', ' ')} reports workers without "
                        "labour contracts (Law 84/2015, Art. 34.1.d)",
                    )
                )
    if errors:
        raise ValidationProblem(errors)
    if data.category is Category.labour_accident and not count_outcomes(victims).notifiable:
        raise NotNotifiable(
            [
                FieldError(
                    pointer="/victims",
                    detail="a labour accident is notifiable only with at least one dead or "
                    "at least two seriously injured victims (Law 84/2015, Art. 34)",
                )
            ],
            detail="Only fatal accidents and accidents seriously injuring two or more workers "
            "are reported here (Law 84/2015, Art. 34; Decree 39/2016, Art. 10)",
        )
    return place
