"""Which reports an organisation may read, as a SQL condition applied inside every query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, true

from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.reports.models import Report


def readable_reports(principal: Principal) -> Any:
    """An enterprise sees its own reports, a district committee and the police their district,
    the inspectorate all (contract, Reports)."""
    kind = principal.kind
    if kind is OrganisationKind.inspectorate:
        return true()
    if kind is OrganisationKind.enterprise:
        return Report.submitted_by_id == principal.organisation_id
    if kind in (OrganisationKind.district_committee, OrganisationKind.police):
        return Report.district_code == principal.district_code
    return false()
