"""Yearly figures for the province's plan report (DOMAIN.md, Statistics the province needs).

Which year a report belongs to: the year its accident **occurred** (``occurred_at`` in Vietnam
time), not the year it was received: the province measures accident frequency (plan target:
fatal accidents 4% fewer every year), and an accident on 31 December reported on 2 January
belongs to the year it happened. Investigation figures are as of the moment of the request.

Labour accidents and serious technical incidents are counted apart: a technical incident in
which someone died is not a "fatal labour accident" (Law 84/2015 distinguishes them: Art. 34 for
accidents, Art. 19 for incidents), and its victims are counted in the incidents' own columns.

Rows are today's units where the map allows (DOMAIN.md, Places): accidents from 2025-07-01 count
in their commune of map 2025, earlier ones in their district of map 2024 (v1's reports, which
all have a 2024 district, count there). ``by=district`` rolls the 2025 communes up to the old
districts for comparison with earlier years; a commune that spans several old districts
(22015 Phường Tuy Hòa, 22240 Phường Phú Yên) is shown as such, never split.

Computed, everything is aggregated in SQL, in one statement grouped by unit
(``compute_yearly_stats``, the reference). With a million reports that statement takes a
quarter to half a second, too slow for a page (and for an API read repeated by dashboards): the
province's figures are kept at write time instead (app.stats.kept), an area's are computed and
kept for a short while (see ``FiguresCache``); ``as_of`` says when they were read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import clock
from app.accidents import Category, Severity
from app.audit.models import AuditEvent
from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.divisions.service import divisions
from app.investigations.models import ACTIVE, FINISHED, Investigation
from app.investigations.service import statuses_in
from app.policy import counted
from app.reports.models import Report
from app.stats import kept
from app.stats.models import REPORT_FIGURES
from app.stats.schemas import Figures, Grouping, StatsRead, UnitFigures

BASIS = "occurred_at (Vietnam time)"
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


def _sum_where(column: InstrumentedAttribute[int], condition: ColumnElement[bool]) -> Any:
    """SUM(column) FILTER (WHERE condition), 0 rather than NULL when no row matches."""
    return func.coalesce(func.sum(column).filter(condition), 0)


def _unit_columns(district_code: Any, commune_code: Any) -> tuple[Any, Any]:
    """The unit a row counts in: its 2024 district while it has one (accidents before
    2025-07-01, and v1's reports), else its commune of map 2025."""
    return (
        district_code.label("district_code"),
        case((district_code.is_(None), commune_code)).label("commune_code"),
    )


def stats_statement(*, principal: Principal, year: int, now: datetime) -> Select[Any]:
    """One row per unit (2024 district or 2025 commune), in one statement (also timed bare by
    bench/queries.py).

    Two aggregates of one table each, added up per unit: reports by the year their accident
    occurred, and investigations by the same year (``investigations.occurred_at`` is the
    report's). Each reads one year from an index, so the cost follows the size of the year,
    not of the whole history.
    """
    start, end = year_bounds(year)
    fatal_report = Report.severity == Severity.fatal
    accident = Report.category == Category.labour_accident
    incident = Report.category == Category.technical_incident
    report_unit = _unit_columns(Report.district_code, Report.commune_code)
    reports = (
        select(
            *report_unit,
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
            counted(principal, report_id=Report.id, district_code=Report.district_code),
        )
        .group_by(*report_unit)
    )
    active = statuses_in(ACTIVE)
    finished = statuses_in(FINISHED)
    investigation_unit = _unit_columns(Investigation.district_code, Investigation.commune_code)
    investigations = (
        select(
            *investigation_unit,
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
            counted(
                principal,
                report_id=Investigation.report_id,
                district_code=Investigation.district_code,
            ),
        )
        .group_by(*investigation_unit)
    )
    both = union_all(reports, investigations).subquery("per_table")
    return select(
        both.c.district_code,
        both.c.commune_code,
        *(func.sum(both.c[name]) for name in (*REPORT_FIGURES, *INVESTIGATION_FIGURES)),
    ).group_by(both.c.district_code, both.c.commune_code)


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


#: A row's unit: ("district", code of map 2024) or ("commune", code of map 2025).
_Key = tuple[Literal["district", "commune"], str]


@lru_cache(maxsize=1024)
def _old_districts(commune_code: str) -> tuple[str, ...]:
    """The districts of map 2024 a commune of map 2025 took area from. Cached: the places are
    read once per process (app.divisions.service.divisions), the answer never changes, and
    finding it scans every unit (60 µs, for each of a year's 126 rows)."""
    return tuple(sorted(u.code for u in divisions().successor_of(commune_code, level="district")))


def _roll_up(key: _Key) -> _Key:
    """``by=district``: a 2025 commune counts in its old district; one that spans several
    (22015 Phường Tuy Hòa: 555 and 563) keeps a row of its own, so no count is ever split."""
    level, code = key
    if level == "commune":
        old = _old_districts(code)
        if len(old) == 1:
            return ("district", old[0])
    return key


def _units_of_year(year: int) -> list[_Key]:
    """Every unit in force during the year (zeros, not gaps): the 2024 districts while they
    existed, then the 2025 communes."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    keys: list[_Key] = []
    for unit in divisions().units:
        if unit.level == "province":
            continue
        if (
            (unit.valid_from is None or unit.valid_from <= end)
            and (unit.valid_to is None or start <= unit.valid_to)
            and (unit.level == "district" or unit.valid_to is None)
        ):
            keys.append((unit.level, unit.code))
    return keys


def _figures_row(key: _Key, counts: _Counts, *, year: int) -> UnitFigures:
    level, code = key
    places = divisions()
    versions = places.versions(code, level=level)
    unit = versions[-1] if level == "commune" else versions[0] if versions else None
    old = list(_old_districts(code)) if level == "commune" else [code]
    return UnitFigures(
        code=code,
        level=level,
        map=unit.map if unit else "",
        name=unit.name if unit else code,
        district_codes=old,
        **counts.figures(),
    )


#: How long computed figures are served while nothing was written: only the passage of time
#: (an investigation becoming overdue) can change them meanwhile.
FIGURES_MAX_AGE = timedelta(seconds=60)


def _last_change(session: Session) -> tuple[Any, ...]:
    """What changes whenever a write changes the figures, read from two indexes in one round
    trip: the newest report, and the newest audit event other than a read. Every filing,
    amendment and investigation change writes an audit event in its own transaction
    (app.audit); the newest report also catches reports written without one (bulk loads).
    Random ids make two different histories differ even where their serial numbers agree."""
    newest_event = (
        select(AuditEvent.id, AuditEvent.object_id)
        .where(AuditEvent.action != "report.read")
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .subquery()
    )
    newest_report = (
        select(Report.received_at, Report.id)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(1)
        .subquery()
    )
    row = session.execute(
        select(
            select(newest_event.c.id).scalar_subquery(),
            select(newest_event.c.object_id).scalar_subquery(),
            select(newest_report.c.received_at).scalar_subquery(),
            select(newest_report.c.id).scalar_subquery(),
        )
    ).one()
    return tuple(row)


class FiguresCache:
    """Figures per database, scope, year and grouping, each kept while nothing that counts was
    written since (``_last_change``) and for at most ``FIGURES_MAX_AGE``; bounded, per
    process. The page and ``GET /api/v1/stats`` both read through it, so they agree."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], StatsRead]] = OrderedDict()

    def get(self, key: tuple[Any, ...], change: tuple[Any, ...], now: datetime) -> StatsRead | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            seen, figures = found
            if seen != change or not (timedelta(0) <= now - figures.as_of < FIGURES_MAX_AGE):
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return figures

    def put(self, key: tuple[Any, ...], change: tuple[Any, ...], figures: StatsRead) -> None:
        with self._lock:
            self._items[key] = (change, figures)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


figures_cache = FiguresCache()


def yearly_stats(
    session: Session, *, principal: Principal, year: int, by: Grouping = "place"
) -> StatsRead:
    """The year's figures for the caller's scope, as of now (``as_of``).

    The province's (the inspectorate's) are read from the figures kept at write time
    (app.stats.kept): a read sums a few rows per unit. An area's (police, committees) cannot be
    (an area is a filter on each report's current communes): they are computed, kept per
    process while nothing that counts was written (``FiguresCache``)."""
    now = clock.now()
    if principal.kind is OrganisationKind.inspectorate:
        return _kept_yearly_stats(session, principal=principal, year=year, by=by, now=now)
    scope_key = (
        principal.kind.value,
        principal.commune_code,
        principal.province_code,
        principal.district_code,
    )
    key = (str(session.get_bind().engine.url), scope_key, year, by)
    change = _last_change(session)
    figures = figures_cache.get(key, change, now)
    if figures is None:
        figures = compute_yearly_stats(session, principal=principal, year=year, by=by, now=now)
        figures_cache.put(key, change, figures)
    return figures


def _kept_yearly_stats(
    session: Session, *, principal: Principal, year: int, by: Grouping, now: datetime
) -> StatsRead:
    start, end = year_bounds(year)
    rows, unfolded = kept.kept_rows(session, year=year, start=start, end=end, now=now)
    counted: list[tuple[_Key, _Counts]] = [
        (("district", code) if level == "district" else ("commune", code), _Counts(*figures))
        for level, code, figures in rows
    ]
    if unfolded >= kept.FOLD_AFTER:
        # The read's transaction ends first (its connection goes back to the pool).
        session.rollback()
        kept.fold_pending()
    return _stats_read(counted, principal=principal, year=year, by=by, now=now)


def compute_yearly_stats(
    session: Session, *, principal: Principal, year: int, by: Grouping, now: datetime
) -> StatsRead:
    """The figures from the rows, now (one aggregate statement: see ``stats_statement``)."""
    counted: list[tuple[_Key, _Counts]] = []
    for row in session.execute(stats_statement(principal=principal, year=year, now=now)):
        district_code, commune_code, *figures = row
        key: _Key = (
            ("district", str(district_code))
            if district_code is not None
            else ("commune", str(commune_code))
        )
        counted.append((key, _Counts(*(int(v) for v in figures))))
    return _stats_read(counted, principal=principal, year=year, by=by, now=now)


def _stats_read(
    counted: Iterable[tuple[_Key, _Counts]],
    *,
    principal: Principal,
    year: int,
    by: Grouping,
    now: datetime,
) -> StatsRead:
    """The counts per unit added up (``by=district``: rolled up first), then every unit of the
    year (province) or every unit with a row (area), in order, and the total."""
    by_unit: dict[_Key, _Counts] = {}
    for key, counts in counted:
        if by == "district":
            key = _roll_up(key)
        by_unit.setdefault(key, _Counts()).add(counts)
    keys: list[_Key] = []
    if principal.kind is OrganisationKind.inspectorate:
        scope: Literal["province", "area"] = "province"
        keys = _units_of_year(year)
        if by == "district":
            keys = list(dict.fromkeys(_roll_up(k) for k in keys))
    else:
        scope = "area"
    keys += [k for k in by_unit if k not in keys]
    keys.sort(key=lambda k: (k[0] != "district", k[1]))
    total = _Counts()
    rows = []
    for key in keys:
        counts = by_unit.get(key, _Counts())
        total.add(counts)
        rows.append(_figures_row(key, counts, year=year))
    return StatsRead(
        year=year,
        basis=BASIS,
        by=by,
        scope=scope,
        as_of=now,
        units=rows,
        total=Figures(**total.figures()),
    )
