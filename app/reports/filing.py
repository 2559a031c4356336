"""Filing a report: validated, stored with its investigation, its notifications (the outbox)
and its audit events, exactly once per Idempotency-Key (contract, Reports).

The rules are in :mod:`app.reports.rules`; reading in :mod:`app.reports.service`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import audit_row, write_audit
from app.auth.principal import Principal
from app.auth.schemas import OrganisationRef
from app.db import is_postgresql
from app.divisions.places import Place
from app.errors import IdempotentRequestInFlight
from app.identity_numbers import phone_e164
from app.investigations.models import Investigation
from app.investigations.opening import new_investigation
from app.notifications import outbox
from app.notifications.routing import ReportPlace, routes_for
from app.reports import idempotency, numbering, single_statement
from app.reports.models import Report, ReportCommune
from app.reports.rules import (
    LATE_AFTER,
    check_report,
    count_outcomes,
    report_warnings,
    victims_as_stored,
)
from app.reports.schemas import ReportCreate, ReportRead


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
    filing = _Filing(
        principal=principal, data=data, place=place, victims=victims, body_sha256=body_sha256
    )
    digest = idempotency.request_hash(data.model_dump(mode="json"))
    write = _file_in_one_statement if is_postgresql(session) else _file_in_steps
    return write(session, filing, key=idempotency_key, digest=digest)


@dataclass(frozen=True)
class _Filing:
    """A report checked and ready to be written."""

    principal: Principal
    data: ReportCreate
    place: Place
    victims: list[dict[str, Any]]
    body_sha256: str | None


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
    session: Session, filing: _Filing, *, key: str, digest: str
) -> idempotency.Outcome:
    """PostgreSQL: claim, store, number and wake in one statement (see
    :mod:`app.reports.single_statement`). A key already used is answered from its stored
    record, which writes nothing."""
    for _ in range(_FILING_TRIES):
        received_at = clock.now()
        # The statement writes the number it takes in place of the stand-in.
        rows = _build_rows(session, filing, received_at=received_at, reference=numbering.STAND_IN)
        taken, reference = single_statement.file_report(
            session.connection(),
            organisation_id=filing.principal.organisation_id,
            idempotency_key=key,
            idempotency_row=idempotency.completed_row(
                organisation_id=filing.principal.organisation_id,
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
            idempotency.commit(session)  # committed with the statement: this ends the transaction
            return idempotency.Outcome(
                201, {**rows.body, "reference": reference}, rows.location, replayed=False
            )
        session.rollback()
        if not taken:
            raise IdempotentRequestInFlight(
                "A request with this Idempotency-Key is still being processed; retry later"
            )
        stored = idempotency.stored(
            session, organisation_id=filing.principal.organisation_id, key=key, digest=digest
        )
        if stored is not None:
            return idempotency.replay(stored)
        # The key was freed after the statement found it used: file again.
    raise IdempotentRequestInFlight("Could not claim the Idempotency-Key; retry later")


def _file_in_steps(
    session: Session, filing: _Filing, *, key: str, digest: str
) -> idempotency.Outcome:
    """SQLite: under the key's claim, take the number and write the rows with it in one
    transaction. The transaction holds the database's write lock from its first statement, so
    taking the number first costs no longer lock."""

    def write() -> idempotency.StoredResponse:
        received_at = clock.now()
        connection = session.connection()
        reference = numbering.take_reference(connection, year=_year(received_at))
        rows = _build_rows(session, filing, received_at=received_at, reference=reference)
        connection.execute(insert(Report), [rows.report])
        if rows.communes:
            connection.execute(insert(ReportCommune), rows.communes)
        connection.execute(insert(Investigation), [rows.investigation])
        outbox.write(session, rows.event, rows.deliveries)
        write_audit(session, rows.audit)
        return idempotency.StoredResponse(status=201, body=rows.body, location=rows.location)

    return idempotency.once(
        session,
        organisation_id=filing.principal.organisation_id,
        key=key,
        digest=digest,
        work=write,
    )


def _year(received_at: datetime) -> int:
    """References count by the year in Vietnam when the report was received."""
    return clock.vietnam_time(received_at).year


def _build_rows(
    session: Session, filing: _Filing, *, received_at: datetime, reference: str
) -> FilingRows:
    """The report, its investigation, its notifications (the outbox) and its audit events,
    built up front as column values: filing is the hot path, and model instances and the unit
    of work's bookkeeping would cost more than the statements."""
    principal, data, place, victims = filing.principal, filing.data, filing.place, filing.victims
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
        "body_sha256": filing.body_sha256,
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
    event, deliveries = outbox.outbox_rows(
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
