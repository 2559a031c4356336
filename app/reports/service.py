"""Filing and reading accident reports.

Law 84/2015 Art. 34.1.b and Decree 39/2016 Art. 10: an accident that kills a worker or
seriously injures two or more must be declared immediately, by the fastest means, to the
provincial labour authority and, when someone died, at the same time to the police of the place
(the Law sets no hour count). The Đắk Lắk plan (December 2024, Resolution 209/NQ-CP) also asks
for the police for two or more seriously injured, and for serious technical incidents, which Law
84 Art. 19.2.a has reported to the local government of the place. Only a labour accident must
meet the Art. 34 threshold; a technical incident is accepted with any victims or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from app import clock
from app.audit import chain as audit_chain
from app.audit.service import audit_row, record
from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.auth.schemas import OrganisationRef
from app.db import is_postgresql
from app.divisions.places import Place, accident_date, resolve
from app.errors import (
    FieldError,
    IdempotentRequestInFlight,
    NotFound,
    NotNotifiable,
    ValidationProblem,
)
from app.identity_numbers import national_id_doubts, phone_e164
from app.investigations.models import Investigation
from app.investigations.opening import new_investigation
from app.notifications.models import Delivery, NotificationEvent
from app.notifications.outbox import outbox_rows
from app.notifications.routing import ReportPlace, routes_for
from app.pagination import PageParams, paginate
from app.reports import idempotency, numbering, single_statement
from app.reports.models import Category, Report, ReportCommune, Severity
from app.reports.schemas import ReportCreate, ReportRead, ReportSummary, VictimIn
from app.reports.scope import in_commune, readable_reports

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


def to_summary(report: Report) -> ReportSummary:
    fields = _fields(report)
    fields.pop("victims")
    fields.pop("reporter")
    return ReportSummary.model_validate({**fields, "victim_count": len(report.victims)})


def to_read(report: Report) -> ReportRead:
    return ReportRead.model_validate(_fields(report))


def _fields(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "reference": report.reference,
        "category": report.category,
        "severity": report.severity,
        "dead_count": report.dead_count,
        "seriously_injured_count": report.seriously_injured_count,
        "minor_injury_count": report.minor_injury_count,
        "occurred_at": report.occurred_at,
        "commune_code": report.commune_code,
        "district_code": report.district_code,
        "place_name": report.place_name,
        "current_commune_codes": report.current_commune_codes,
        "commune": report.commune,
        "address": report.address,
        "summary": report.summary,
        "initial_cause": report.initial_cause,
        "measures_taken": report.measures_taken,
        "employer_name": report.employer_name,
        "victims": report.victims,
        "reporter": report.reporter,
        "submitted_by": OrganisationRef(
            id=report.submitted_by.id,
            name=report.submitted_by.name,
            kind=report.submitted_by.kind,
        ),
        "received_at": report.received_at,
        "late": report.late,
        "investigation_id": report.investigation.id if report.investigation else None,
        "version": report.version,
        "updated_at": report.updated_at,
        "warnings": report_warnings(report.victims),
    }


def file_report(
    session: Session,
    *,
    principal: Principal,
    data: ReportCreate,
    idempotency_key: str,
    body_sha256: str | None = None,
) -> idempotency.Outcome:
    """Validate, store and route a report, exactly once per Idempotency-Key.

    One way to write a filing per database: PostgreSQL in one statement
    (:mod:`app.reports.single_statement`), SQLite in steps under its write lock. Either way the
    reference is taken where the rows are written, and every row is written once with it."""
    victims = victims_as_stored(data.victims, kind=principal.kind)
    place = check_report(data, principal=principal, now=clock.now(), victims=victims)
    assert place is not None  # checked, or a problem was raised
    digest = idempotency.request_hash(data.model_dump(mode="json"))
    filing = _file_in_one_statement if is_postgresql(session) else _file_in_steps
    return filing(
        session,
        principal=principal,
        data=data,
        place=place,
        victims=victims,
        key=idempotency_key,
        digest=digest,
        body_sha256=body_sha256,
    )


@dataclass(frozen=True)
class FilingRows:
    """Everything a filing writes, as column values."""

    report: dict[str, Any]
    #: One row per current commune (report_communes).
    communes: list[dict[str, Any]]
    investigation: dict[str, Any]
    event: dict[str, Any]
    deliveries: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    #: The 201 response body.
    body: dict[str, Any]
    location: str


#: How often a PostgreSQL filing whose key was freed meanwhile (an amendment's claim that
#: failed) tries again.
_FILING_TRIES = 3


def _file_in_one_statement(
    session: Session,
    *,
    principal: Principal,
    data: ReportCreate,
    place: Place,
    victims: list[dict[str, Any]],
    key: str,
    digest: str,
    body_sha256: str | None = None,
) -> idempotency.Outcome:
    """PostgreSQL: claim, store, number and wake in one statement (see
    :mod:`app.reports.single_statement`). A key already used is answered from its stored
    record, which writes nothing."""
    for _ in range(_FILING_TRIES):
        received_at = clock.now()
        rows = _build_rows(
            session,
            principal=principal,
            data=data,
            place=place,
            victims=victims,
            received_at=received_at,
            reference=numbering.STAND_IN,  # the statement writes the number it takes
            body_sha256=body_sha256,
        )
        taken, reference = single_statement.file_report(
            session.connection(),
            organisation_id=principal.organisation_id,
            idempotency_key=key,
            idempotency_row=idempotency.completed_row(
                organisation_id=principal.organisation_id,
                key=key,
                digest=digest,
                location=rows.location,
            ),
            response_body=idempotency.serialise(rows.body),
            year=_year(received_at),
            report=rows.report,
            communes=rows.communes,
            investigation=rows.investigation,
            event=rows.event,
            deliveries=rows.deliveries,
            audit=rows.audit,
        )
        if reference is not None:
            session.commit()  # committed with the statement: this ends the session's transaction
            return idempotency.Outcome(
                201, {**rows.body, "reference": reference}, rows.location, replayed=False
            )
        session.rollback()
        if not taken:
            raise IdempotentRequestInFlight(
                "A request with this Idempotency-Key is still being processed; retry later"
            )
        stored = idempotency.stored(
            session, organisation_id=principal.organisation_id, key=key, digest=digest
        )
        if stored is not None:
            return idempotency.Outcome(
                stored.status, stored.body, stored.location or "", replayed=True
            )
        # The key was freed after the statement found it used: file again.
    raise IdempotentRequestInFlight("Could not claim the Idempotency-Key; retry later")


def _file_in_steps(
    session: Session,
    *,
    principal: Principal,
    data: ReportCreate,
    place: Place,
    victims: list[dict[str, Any]],
    key: str,
    digest: str,
    body_sha256: str | None = None,
) -> idempotency.Outcome:
    """SQLite: claim the key (committed), then in one transaction take the number and write
    the rows with it, and commit. The transaction holds the database's write lock from its
    first statement, so taking the number first costs no longer lock."""
    stored = idempotency.claim(
        session, organisation_id=principal.organisation_id, key=key, digest=digest
    )
    if stored is not None:
        return idempotency.Outcome(stored.status, stored.body, stored.location or "", replayed=True)
    try:
        received_at = clock.now()
        connection = session.connection()
        reference = numbering.take_reference(connection, year=_year(received_at))
        rows = _build_rows(
            session,
            principal=principal,
            data=data,
            place=place,
            victims=victims,
            received_at=received_at,
            reference=reference,
            body_sha256=body_sha256,
        )
        connection.execute(insert(Report), [rows.report])
        if rows.communes:
            connection.execute(insert(ReportCommune), rows.communes)
        connection.execute(insert(Investigation), [rows.investigation])
        connection.execute(insert(NotificationEvent), [rows.event])
        if rows.deliveries:
            connection.execute(insert(Delivery), rows.deliveries)
        audit_chain.append(connection, rows.audit)
        idempotency.complete(
            session,
            organisation_id=principal.organisation_id,
            key=key,
            response=idempotency.StoredResponse(status=201, body=rows.body, location=rows.location),
        )
        session.commit()
    except BaseException:
        idempotency.release(session, organisation_id=principal.organisation_id, key=key)
        raise
    return idempotency.Outcome(201, rows.body, rows.location, replayed=False)


def _year(received_at: datetime) -> int:
    """References count by the year in Vietnam when the report was received."""
    return clock.vietnam_time(received_at).year


def _build_rows(
    session: Session,
    *,
    principal: Principal,
    data: ReportCreate,
    place: Place,
    victims: list[dict[str, Any]],
    received_at: datetime,
    reference: str,
    body_sha256: str | None = None,
) -> FilingRows:
    """The report, its investigation, its notifications (the outbox) and its audit events,
    built up front as column values: filing is the hot path, and model instances and the unit
    of work's bookkeeping would cost more than the statements."""
    counts = count_outcomes(victims)
    routes = routes_for(
        session,
        place=ReportPlace(
            category=data.category,
            severity=counts.severity,
            district_code=place.district_code,
            current_commune_codes=place.current_commune_codes,
        ),
    )
    report_id = uuid.uuid4()
    occurred_at = data.occurred_at.astimezone(UTC)
    report: dict[str, Any] = {
        "id": report_id,
        "reference": reference,
        "category": data.category,
        "severity": counts.severity,
        "dead_count": counts.dead,
        "seriously_injured_count": counts.seriously_injured,
        "minor_injury_count": counts.minor_injury,
        "occurred_at": occurred_at,
        "commune_code": place.commune_code,
        "district_code": place.district_code,
        "place_name": place.name,
        "current_commune_codes": list(place.current_commune_codes),
        "commune": data.commune,
        "address": data.address,
        "summary": data.summary,
        "initial_cause": data.initial_cause,
        "measures_taken": data.measures_taken,
        "employer_name": data.employer_name,
        "victims": victims,
        "reporter": data.reporter.model_dump(mode="json"),
        "reporter_phone_e164": phone_e164(data.reporter.phone),
        "submitted_by_id": principal.organisation_id,
        "received_at": received_at,
        "late": received_at - data.occurred_at > LATE_AFTER,
        "version": 1,
        "updated_at": received_at,
        # Evidence: the hash of the exact bytes that were filed (GET /reports/{id}/evidence).
        "body_sha256": body_sha256,
    }
    investigation, opened = new_investigation(
        report_id=report_id,
        reference=reference,
        commune_code=place.commune_code,
        district_code=place.district_code,
        current_commune_codes=list(place.current_commune_codes),
        category=data.category,
        severity=counts.severity,
        dead=counts.dead,
        seriously_injured=counts.seriously_injured,
        minor_injury=counts.minor_injury,
        occurred_at=occurred_at,
        received_at=received_at,
    )
    body = ReportRead.model_validate(
        {
            **report,
            "submitted_by": OrganisationRef(
                id=principal.organisation_id, name=principal.organisation_name, kind=principal.kind
            ),
            "investigation_id": investigation["id"],
            "warnings": report_warnings(victims),
        }
    ).model_dump(mode="json")
    event, deliveries = outbox_rows(
        report_id=report_id, event_type="report.created", payload=body, routes=routes
    )
    filed = audit_row(
        actor=principal,
        action="report.filed",
        object_type="report",
        object_id=report_id,
        changes={"severity": counts.severity.value, "category": data.category.value},
    )
    return FilingRows(
        report=report,
        communes=[
            {"commune_code": code, "report_id": report_id} for code in place.current_commune_codes
        ],
        investigation=investigation,
        event=event,
        deliveries=deliveries,
        audit=[opened, filed],
        body=body,
        location=f"/api/v1/reports/{report_id}",
    )


def _readable(principal: Principal) -> Select[Report]:
    return select(Report).where(readable_reports(principal))


def get_report(session: Session, *, principal: Principal, report_id: uuid.UUID) -> Report:
    report = session.scalar(_readable(principal).where(Report.id == report_id))
    if report is None:
        raise NotFound("No such report")
    return report


def read_report(session: Session, *, principal: Principal, report_id: uuid.UUID) -> ReportRead:
    """The whole report, for a reader. A read by any organisation other than the filer is
    recorded (``report.read``): who saw the victims' personal data, and when (Law 91/2025 on
    personal data; Security and privacy)."""
    report = get_report(session, principal=principal, report_id=report_id)
    whole = to_read(report)
    if report.submitted_by_id != principal.organisation_id:
        # In a transaction of its own that begins with the write: on SQLite a read
        # transaction that turns into a write can fail at once with SQLITE_BUSY.
        session.rollback()
        record(
            session,
            actor=principal,
            action="report.read",
            object_type="report",
            object_id=whole.id,
            changes={"version": whole.version},
        )
        session.commit()
    return whole


@dataclass(frozen=True)
class ReportFilters:
    category: Category | None = None
    severity: Severity | None = None
    commune_code: str | None = None
    district_code: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def list_reports(
    session: Session,
    *,
    principal: Principal,
    filters: ReportFilters,
    params: PageParams,
    options: Sequence[ExecutableOption] = (),
) -> tuple[list[Report], str | None]:
    """Reports in the caller's scope, newest first. ``options`` narrow what is loaded (a page
    of links needs five columns, not the victims, the organisation and the investigation)."""
    stmt = _readable(principal).options(*options)
    if filters.category is not None:
        stmt = stmt.where(Report.category == filters.category)
    if filters.severity is not None:
        stmt = stmt.where(Report.severity == filters.severity)
    if filters.commune_code is not None:
        stmt = stmt.where(in_commune(Report.id, filters.commune_code))
    if filters.district_code is not None:
        stmt = stmt.where(Report.district_code == filters.district_code)
    if filters.occurred_from is not None:
        stmt = stmt.where(Report.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        stmt = stmt.where(Report.occurred_at <= filters.occurred_to)
    return paginate(
        session,
        stmt,
        order=[(Report.received_at, datetime), (Report.id, uuid.UUID)],
        params=params,
        descending=True,
        key=lambda r: (r.received_at, r.id),
    )
