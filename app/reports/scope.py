"""Where a report lies, as SQL conditions: in a commune of today's map, in a province, in an
organisation's area. Who may see what is app/policy.py, which uses these."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, select

from app.auth.principal import Principal
from app.divisions.service import divisions
from app.reports.models import ReportCommune


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
    """The area condition for a police organisation or a committee (app/policy.py)."""
    if principal.commune_code is not None:
        return in_commune(report_id, principal.commune_code)
    if principal.province_code is not None:
        return in_province(report_id, principal.province_code)
    if principal.district_code is not None:
        return district_code == principal.district_code  # type: ignore[no-any-return]
    return false()
