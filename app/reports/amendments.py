"""Follow-up reports (amendments) and the numbered versions of a report.

Severity can rise after a report is filed: a seriously injured worker may die later, which
makes the accident fatal (Decree 39/2016, Art. 9), and facts arrive later. The submitting
organisation files an amendment; it is validated like a report. Every amendment is kept as a
numbered version with who and when; the report shows the current state. ``received_at`` never
changes: it is the legal time of declaration (Law 84/2015, Art. 34; Decree 283/2026 fines
late declarations). When the victims' counts change, the investigation's base period and
``due_at`` are recomputed from that original ``received_at`` (Law 84/2015, Art. 35.6), and a
``report.amended`` event goes to the same recipients as the report, through the same outbox.

Decisions (also in the OpenAPI descriptions):
- Only the submitting organisation amends. Another organisation that may read the report (a
  district committee, for an enterprise's report in its district) gets 403; one that may not
  read it gets 404, exactly as if it did not exist. Police, inspectorate and admin: 403.
- What may change: the text fields (``commune``, ``address``, ``summary``, ``initial_cause``,
  ``measures_taken``, ``employer_name``), ``reporter`` and ``victims``. ``victims`` is the whole
  new list: victims are matched by position, so existing victims are corrected in place and
  new ones appended; none may be removed (a declaration is not withdrawn piece by piece).
  ``category``, ``occurred_at`` and the place (``commune_code``, ``district_code``) do not
  change (they decide routing, scope and lateness): a wrong one needs the inspectorate.
- An amendment that changes nothing is 422.
- ``Idempotency-Key`` is required, as for POST /reports, with the same semantics (keys are
  per organisation and shared with POST /reports).
- The audit event names the changed fields but copies no personal data (admins read the
  audit trail); the values are in the versions, which only the report's readers see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.models import AuditEvent
from app.audit.service import record
from app.auth.principal import Principal
from app.errors import (
    FieldError,
    Forbidden,
    NotFound,
    ValidationProblem,
    field_errors_from_pydantic,
)
from app.identity_numbers import phone_e164
from app.investigations.service import follow_report_severity
from app.notifications import outbox
from app.notifications.routing import ReportPlace, routes_for
from app.pagination import PageParams, paginate
from app.policy import amends, readable_reports, reads_evidence
from app.reports import idempotency
from app.reports.models import Report, ReportVersion
from app.reports.rules import check_report, count_outcomes, victims_as_stored
from app.reports.schemas import (
    AMENDABLE,
    AmendmentCreate,
    EvidenceRead,
    EvidenceVersion,
    ReportCreate,
    ReportRead,
    ReportVersionRead,
)
from app.reports.service import to_read

#: Bookkeeping of the report document, not facts of the accident.
NOT_CHANGES = frozenset({"/version", "/updated_at"})


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The changed leaves between two report documents, as JSON Pointers."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[dict[str, Any]] = []
        for key in before.keys() | after.keys():
            changes += diff(before.get(key), after.get(key), f"{path}/{key}")
        return sorted(changes, key=lambda c: _pointer_order(c["field"]))
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else None
            new = after[index] if index < len(after) else None
            changes += diff(old, new, f"{path}/{index}")
        return changes
    if before == after or path in NOT_CHANGES:
        return []
    return [{"field": path, "from": before, "to": after}]


def _pointer_order(pointer: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in pointer.split("/")]


def _load_report(
    session: Session, *, principal: Principal, report_id: uuid.UUID, for_update: bool = False
) -> Report:
    stmt = select(Report).where(Report.id == report_id, readable_reports(principal))
    if for_update:
        stmt = stmt.with_for_update(of=Report).execution_options(populate_existing=True)
    report = session.scalar(stmt)
    if report is None:
        raise NotFound("No such report")
    return report


def _own_report(
    session: Session, *, principal: Principal, report_id: uuid.UUID, for_update: bool = False
) -> Report:
    report = _load_report(session, principal=principal, report_id=report_id, for_update=for_update)
    if not amends(principal, report):
        raise Forbidden("Only the organisation that filed the report may amend it")
    return report


@dataclass(frozen=True)
class _Plan:
    #: The report as it stands, as GET shows it: version 1's snapshot when it is the first
    #: amendment.
    before: dict[str, Any]
    fields: dict[str, Any]
    victims: list[dict[str, Any]]
    after: dict[str, Any]
    changes: list[dict[str, Any]]


def _plan(report: Report, *, principal: Principal, data: AmendmentCreate) -> _Plan:
    """Validate the report as it would stand after the amendment (like a new report)."""
    given = data.model_dump(mode="json", exclude_unset=True)
    given.pop("note", None)
    before = to_read(report).model_dump(mode="json")
    if data.victims is not None and len(data.victims) < len(report.victims):
        raise ValidationProblem(
            [
                FieldError(
                    pointer="/victims",
                    detail=f"victims cannot be removed: give all {len(report.victims)} "
                    "victims (corrected) and append new ones",
                )
            ]
        )
    merged = {key: before[key] for key in ReportCreate.model_fields}
    merged.update(given)
    try:
        candidate = ReportCreate.model_validate(merged)
    except ValidationError as exc:  # the stored part no longer passes today's rules
        raise ValidationProblem(
            field_errors_from_pydantic([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])
        ) from None
    victims = (
        victims_as_stored(data.victims, kind=principal.kind)
        if data.victims is not None
        else report.victims
    )
    check_report(
        candidate, principal=principal, now=clock.now(), victims=victims, check_place=False
    )
    counts = count_outcomes(victims)
    fields = {key: getattr(candidate, key) for key in AMENDABLE if key in given}
    if "reporter" in fields:
        fields["reporter"] = candidate.reporter.model_dump(mode="json")
    fields.pop("victims", None)
    after = {
        **before,
        **fields,
        "victims": victims,
        "severity": counts.severity.value,
        "dead_count": counts.dead,
        "seriously_injured_count": counts.seriously_injured,
        "minor_injury_count": counts.minor_injury,
    }
    # Compare as JSON documents (the reporter and victims are stored as JSON already).
    after = ReportRead.model_validate(after).model_dump(mode="json")
    changes = diff(before, after)
    if not changes:
        raise ValidationProblem(
            [FieldError(pointer="", detail="the amendment changes nothing in the report")]
        )
    return _Plan(before=before, fields=fields, victims=victims, after=after, changes=changes)


def _filing_key(session: Session, report: Report) -> uuid.UUID | None:
    """The API key the report was filed with, from the audit trail (for version 1)."""
    return session.scalar(
        select(AuditEvent.actor_api_key_id)
        .where(
            AuditEvent.object_type == "report",
            AuditEvent.object_id == str(report.id),
            AuditEvent.action == "report.filed",
        )
        .limit(1)
    )


def _apply(
    session: Session,
    *,
    principal: Principal,
    report: Report,
    plan: _Plan,
    note: str | None,
    body_sha256: str | None = None,
) -> ReportVersion:
    now = clock.now()
    if report.version == 1:
        session.add(_first_version(session, report, snapshot=plan.before))
    old_severity = report.severity
    old_counts = (report.dead_count, report.seriously_injured_count, report.minor_injury_count)
    counts = count_outcomes(plan.victims)
    for key, value in plan.fields.items():
        setattr(report, key, value)
    report.victims = plan.victims
    report.reporter_phone_e164 = phone_e164(report.reporter["phone"])
    report.severity = counts.severity
    report.dead_count = counts.dead
    report.seriously_injured_count = counts.seriously_injured
    report.minor_injury_count = counts.minor_injury
    report.version += 1
    report.updated_at = now
    # received_at is deliberately untouched: the legal time of declaration.
    if (counts.dead, counts.seriously_injured, counts.minor_injury) != old_counts:
        # The period follows the victims (Law 84/2015 Art. 35.6: 7 days for one seriously
        # injured, 20 for two or more), not only the severity class.
        follow_report_severity(
            session, principal=principal, report_id=report.id, severity=report.severity
        )
    session.flush()
    current = to_read(report).model_dump(mode="json")
    version = ReportVersion(
        id=uuid.uuid4(),
        report_id=report.id,
        version=report.version,
        created_at=now,
        organisation_id=principal.organisation_id,
        api_key_id=principal.api_key_id,
        note=note,
        changes=plan.changes,
        snapshot=current,
        body_sha256=body_sha256,
    )
    session.add(version)
    outbox.enqueue(
        session,
        report_id=report.id,
        event_type="report.amended",
        payload={**current, "amendment": {"version": report.version, "changes": plan.changes}},
        routes=routes_for(
            session,
            place=ReportPlace(
                category=report.category,
                severity=report.severity,
                district_code=report.district_code,
                current_commune_codes=report.current_commune_codes,
            ),
        ),
    )
    audit_changes: dict[str, Any] = {
        "version": report.version,
        "fields": [c["field"] for c in plan.changes],
    }
    if report.severity != old_severity:
        audit_changes["severity"] = {"from": old_severity.value, "to": report.severity.value}
    record(
        session,
        actor=principal,
        action="report.amended",
        object_type="report",
        object_id=report.id,
        changes=audit_changes,
    )
    session.flush()
    return version


def version_read(version: ReportVersion) -> ReportVersionRead:
    return ReportVersionRead.model_validate(version)


def amend_report(
    session: Session,
    *,
    principal: Principal,
    report_id: uuid.UUID,
    data: AmendmentCreate,
    idempotency_key: str,
    body_sha256: str | None = None,
) -> idempotency.Outcome:
    """Validate and store an amendment, exactly once per Idempotency-Key."""
    _own_report(session, principal=principal, report_id=report_id)
    digest = idempotency.request_hash(
        {
            "amendment_of": str(report_id),
            "body": data.model_dump(mode="json", exclude_unset=True),
        }
    )

    def amend() -> idempotency.StoredResponse:
        # Locked: amendments of one report are numbered one after the other.
        report = _own_report(session, principal=principal, report_id=report_id, for_update=True)
        plan = _plan(report, principal=principal, data=data)
        version = _apply(
            session,
            principal=principal,
            report=report,
            plan=plan,
            note=data.note,
            body_sha256=body_sha256,
        )
        return idempotency.StoredResponse(
            status=201,
            body=version_read(version).model_dump(mode="json", by_alias=True),
            location=f"/api/v1/reports/{report.id}/versions/{version.version}",
        )

    return idempotency.once(
        session,
        organisation_id=principal.organisation_id,
        key=idempotency_key,
        digest=digest,
        work=amend,
    )


def _first_version(
    session: Session, report: Report, *, snapshot: dict[str, Any] | None = None
) -> ReportVersion:
    """Version 1: the report as filed. Stored when the first amendment arrives (``snapshot``,
    the report as it stood before it); until then the report itself, not stored separately."""
    return ReportVersion(
        id=uuid.uuid4(),
        report_id=report.id,
        version=1,
        created_at=report.received_at,
        organisation_id=report.submitted_by_id,
        organisation=report.submitted_by,
        api_key_id=_filing_key(session, report),
        note=None,
        changes=[],
        snapshot=snapshot if snapshot is not None else to_read(report).model_dump(mode="json"),
        body_sha256=report.body_sha256,
    )


def list_versions(
    session: Session, *, principal: Principal, report_id: uuid.UUID, params: PageParams
) -> tuple[list[ReportVersion], str | None]:
    """Oldest first; anyone who may read the report may read its versions."""
    report = _load_report(session, principal=principal, report_id=report_id)
    if report.version == 1:
        return ([_first_version(session, report)] if params.cursor is None else []), None
    return paginate(
        session,
        select(ReportVersion).where(ReportVersion.report_id == report.id),
        order=[(ReportVersion.version, int)],
        params=params,
        key=lambda v: (v.version,),
    )


def get_version(
    session: Session, *, principal: Principal, report_id: uuid.UUID, version: int
) -> ReportVersion:
    report = _load_report(session, principal=principal, report_id=report_id)
    if report.version == 1 and version == 1:
        return _first_version(session, report)
    found = session.scalar(
        select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.version == version
        )
    )
    if found is None:
        raise NotFound("No such version of this report")
    return found


def evidence(session: Session, *, principal: Principal, report_id: uuid.UUID) -> EvidenceRead:
    """What was received for each version, as hashes of the bytes sent: the filing
    organisation and the labour authority may read it (others who can read the report: 403)."""
    report = _load_report(session, principal=principal, report_id=report_id)
    if not reads_evidence(principal, report):
        raise Forbidden("Only the filing organisation and the labour authority read the evidence")
    if report.version == 1:
        versions = [_first_version(session, report)]
    else:
        versions = list(
            session.scalars(
                select(ReportVersion)
                .where(ReportVersion.report_id == report.id)
                .order_by(ReportVersion.version)
            )
        )
    return EvidenceRead(
        report_id=report.id,
        versions=[
            EvidenceVersion(
                version=v.version,
                received_at=v.created_at,
                api_key_id=v.api_key_id,
                body_sha256=v.body_sha256,
            )
            for v in versions
        ],
    )
