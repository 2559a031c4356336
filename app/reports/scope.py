"""Which reports an organisation may read, as a SQL condition applied inside every query.

"In its area" (contract, Organisations and roles): a commune police or commune committee: its
commune is one of the report's current communes; the provincial police: the whole province; a
district police or district committee: the report's (2024) district is its district.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true

from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.divisions.service import divisions
from app.reports.models import Report, ReportCommune


def in_commune(report_id: Any, commune_code: str) -> ColumnElement[bool]:
    """The report (by its id column) lies in that commune of today's map: one primary-key
    lookup in report_communes."""
    return exists(
        select(ReportCommune.report_id).where(
            ReportCommune.commune_code == commune_code, ReportCommune.report_id == report_id
        )
    )


def in_province(report_id: Any, province_code: str) -> ColumnElement[bool]:
    """The report lies in a province of today's map: one of its current communes is there."""
    communes = divisions().communes_of_province(province_code)
    return exists(
        select(ReportCommune.report_id).where(
            ReportCommune.commune_code.in_(communes), ReportCommune.report_id == report_id
        )
    )


def in_area(principal: Principal, *, report_id: Any, district_code: Any) -> ColumnElement[bool]:
    """The area condition for a police organisation or a committee (see the module)."""
    if principal.commune_code is not None:
        return in_commune(report_id, principal.commune_code)
    if principal.province_code is not None:
        return in_province(report_id, principal.province_code)
    if principal.district_code is not None:
        return district_code == principal.district_code  # type: ignore[no-any-return]
    return false()


AREA_KINDS = (
    OrganisationKind.police,
    OrganisationKind.commune_committee,
    OrganisationKind.district_committee,
)


def readable_reports(principal: Principal) -> Any:
    """An enterprise sees its own reports, committees and the police their area, the
    inspectorate all (contract, Reports)."""
    kind = principal.kind
    if kind is OrganisationKind.inspectorate:
        return true()
    if kind is OrganisationKind.enterprise:
        return Report.submitted_by_id == principal.organisation_id
    if kind in AREA_KINDS:
        return in_area(principal, report_id=Report.id, district_code=Report.district_code)
    return false()
