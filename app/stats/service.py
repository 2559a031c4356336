"""Yearly figures for the province's plan report (DOMAIN.md, Statistics the province needs).

Which year a report belongs to: the year its accident **occurred** (``occurred_at`` in Vietnam
time), not the year it was received: the province measures accident frequency (plan target:
fatal accidents 4% fewer every year), and an accident on 31 December reported on 2 January
belongs to the year it happened. Investigation figures are as of the moment of the request.

Labour accidents and serious technical incidents are counted apart: a technical incident in
which someone died is not a "fatal labour accident" (Law 84/2015 distinguishes them: Art. 34 for
accidents, Art. 19 for incidents), and its victims are counted in the incidents' own columns.

Everything is aggregated in SQL, in one statement grouped by district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, literal, select, true, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import clock
from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.divisions.service import division_name, divisions
from app.investigations.models import Investigation
from app.investigations.service import ACTIVE, FINISHED, statuses_in
from app.reports.models import Category, Report, Severity
from app.stats.schemas import DistrictFigures, Figures, StatsRead

BASIS = "occurred_at (Vietnam time)"
REPORT_FIGURES = (
    "reports",
    "labour_accidents",
    "fatal_accidents",
    "deaths",
    "seriously_injured",
    "technical_incidents",
    "technical_incidents_fatal",
    "technical_incident_deaths",
    "technical_incident_seriously_injured",
)
INVESTIGATION_FIGURES = (
    "investigations_open",
    "investigations_overdue",
    "investigations_concluded",
    "fatal_accidents_concluded",
)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of ``year`` in Vietnam time."""
    start = datetime(year, 1, 1, tzinfo=clock.VIETNAM_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=clock.VIETNAM_TZ)
    return start, end


def _district_scope(
    principal: Principal, column: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    """The inspectorate counts the province; the police and a district committee their
    district (contract, Statistics)."""
    if principal.kind is OrganisationKind.inspectorate:
        return true()
    if principal.kind in (OrganisationKind.police, OrganisationKind.district_committee):
        return column == principal.district_code
    return false()


def _sum_where(column: InstrumentedAttribute[int], condition: ColumnElement[bool]) -> Any:
    """SUM(column) FILTER (WHERE condition), 0 rather than NULL when no row matches."""
    return func.coalesce(func.sum(column).filter(condition), 0)


def stats_statement(*, principal: Principal, year: int, now: datetime) -> Select[Any]:
    """One row per district, in one statement (also timed bare by bench/queries.py).

    Two aggregates of one table each, added up per district: reports by the year their
    accident occurred, and investigations by the same year (``investigations.occurred_at`` is
    the report's). Each reads one year from an index that covers it on PostgreSQL, so the
    cost follows the size of the year, not of the whole history.
    """
    start, end = year_bounds(year)
    fatal_report = Report.severity == Severity.fatal
    accident = Report.category == Category.labour_accident
    incident = Report.category == Category.technical_incident
    reports = (
        select(
            Report.district_code.label("district_code"),
            func.count().label("reports"),
            func.count().filter(accident).label("labour_accidents"),
            func.count().filter(and_(accident, fatal_report)).label("fatal_accidents"),
            _sum_where(Report.dead_count, accident).label("deaths"),
            _sum_where(Report.seriously_injured_count, accident).label("seriously_injured"),
            func.count().filter(incident).label("technical_incidents"),
            func.count().filter(and_(incident, fatal_report)).label("technical_incidents_fatal"),
            _sum_where(Report.dead_count, incident).label("technical_incident_deaths"),
            _sum_where(Report.seriously_injured_count, incident).label(
                "technical_incident_seriously_injured"
            ),
            *(literal(0).label(name) for name in INVESTIGATION_FIGURES),
        )
        .where(
            Report.occurred_at >= start,
            Report.occurred_at < end,
            _district_scope(principal, Report.district_code),
        )
        .group_by(Report.district_code)
    )
    active = statuses_in(ACTIVE)
    finished = statuses_in(FINISHED)
    investigations = (
        select(
            Investigation.district_code.label("district_code"),
            *(literal(0).label(name) for name in REPORT_FIGURES),
            func.count().filter(active).label("investigations_open"),
            func.count()
            .filter(and_(active, Investigation.due_at < now))
            .label("investigations_overdue"),
            func.count().filter(finished).label("investigations_concluded"),
            func.count()
            .filter(
                and_(
                    Investigation.category == Category.labour_accident,
                    Investigation.severity == Severity.fatal,
                    finished,
                )
            )
            .label("fatal_accidents_concluded"),
        )
        .where(
            Investigation.occurred_at >= start,
            Investigation.occurred_at < end,
            _district_scope(principal, Investigation.district_code),
        )
        .group_by(Investigation.district_code)
    )
    both = union_all(reports, investigations).subquery("per_table")
    return select(
        both.c.district_code,
        *(func.sum(both.c[name]) for name in (*REPORT_FIGURES, *INVESTIGATION_FIGURES)),
    ).group_by(both.c.district_code)


@dataclass
class _Counts:
    reports: int = 0
    labour_accidents: int = 0
    fatal_accidents: int = 0
    deaths: int = 0
    seriously_injured: int = 0
    technical_incidents: int = 0
    technical_incidents_fatal: int = 0
    technical_incident_deaths: int = 0
    technical_incident_seriously_injured: int = 0
    investigations_open: int = 0
    investigations_overdue: int = 0
    investigations_concluded: int = 0
    fatal_accidents_concluded: int = 0

    def add(self, other: _Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, int | float | None]:
        share = (
            round(self.fatal_accidents_concluded / self.fatal_accidents, 4)
            if self.fatal_accidents
            else None
        )
        return {**self.__dict__, "fatal_concluded_share": share}


def yearly_stats(session: Session, *, principal: Principal, year: int) -> StatsRead:
    now = clock.now()
    by_district: dict[str, _Counts] = {}
    for row in session.execute(stats_statement(principal=principal, year=year, now=now)):
        by_district[str(row[0])] = _Counts(*(int(v) for v in row[1:]))
    if principal.kind is OrganisationKind.inspectorate:
        scope = "province"
        # Every district of the province, also those without reports (zeros, not gaps).
        codes = [d.code for d in divisions()]
        codes += sorted(set(by_district) - set(codes))
    else:
        scope = "district"
        codes = [principal.district_code] if principal.district_code else []
    total = _Counts()
    districts = []
    for code in codes:
        counts = by_district.get(code, _Counts())
        total.add(counts)
        districts.append(
            DistrictFigures(
                district_code=code, district_name=division_name(code), **counts.figures()
            )
        )
    return StatsRead(
        year=year,
        basis=BASIS,
        scope=scope,
        as_of=now,
        districts=districts,
        total=Figures(**total.figures()),
    )
