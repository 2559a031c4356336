"""Reading accident reports: one report (its read is audited when another organisation reads
it), and the list, always within the reader's scope (:mod:`app.policy`).

Filing is :mod:`app.reports.filing`; amendments and versions :mod:`app.reports.amendments`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from app.accidents import Category, Severity
from app.audit.service import record
from app.auth.principal import Principal
from app.errors import NotFound
from app.pagination import PageParams, paginate
from app.policy import readable_reports
from app.reports.models import Report
from app.reports.schemas import ReportRead, ReportSummary
from app.reports.scope import in_commune


def to_summary(report: Report) -> ReportSummary:
    return ReportSummary.model_validate(report)


def to_read(report: Report) -> ReportRead:
    return ReportRead.model_validate(report)


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
