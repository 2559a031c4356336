"""Who may do what, and see which rows: the one home of the roles (contract, Organisations and
roles). Routers and pages admit a caller with :func:`may` (through their dependency modules),
and every query of a report, an investigation or a statistic takes its rows from
:func:`readable_reports`, :func:`readable_investigations` or :func:`counted`, a SQL condition
applied inside the query (a row out of scope is a 404, as if it did not exist).

"In its area": a commune police or commune committee: its commune is one of the report's current
communes; the provincial police: the whole province; a district police or district committee:
the report's (2024) district is its district. An enterprise sees the reports it filed; the
inspectorate (the labour authority) sees everything.

Adding a role: a new ``OrganisationKind`` (app/auth/models.py), its line in :data:`MAY`, and, if it
sees accidents, its branch in :func:`_sees`.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import ColumnElement, false, true

from app.auth.models import OrganisationKind as K
from app.auth.principal import Principal
from app.investigations.models import Investigation
from app.reports.models import Report
from app.reports.scope import in_area


class Action(enum.StrEnum):
    file_reports = "file_reports"
    read_reports = "read_reports"
    read_investigations = "read_investigations"
    manage_investigations = "manage_investigations"
    read_statistics = "read_statistics"
    read_audit = "read_audit"
    operate_deliveries = "operate_deliveries"
    administer = "administer"


REPORTERS = frozenset({K.enterprise, K.commune_committee, K.district_committee})
#: Police and committees: they see the accidents of their area.
AREA_KINDS = frozenset({K.police, K.commune_committee, K.district_committee})

#: The kinds of organisation that may do each thing (403 for the others).
MAY: dict[Action, frozenset[K]] = {
    Action.file_reports: REPORTERS,
    Action.read_reports: REPORTERS | {K.police, K.inspectorate},
    Action.read_investigations: frozenset({K.inspectorate, K.police}),
    Action.manage_investigations: frozenset({K.inspectorate}),
    Action.read_statistics: AREA_KINDS | {K.inspectorate},
    Action.read_audit: frozenset({K.inspectorate, K.admin}),
    Action.operate_deliveries: frozenset({K.admin, K.inspectorate}),
    Action.administer: frozenset({K.admin}),
}


def may(principal: Principal, action: Action) -> bool:
    return principal.kind in MAY[action]


def _sees(
    principal: Principal, *, report_id: Any, district_code: Any, submitted_by_id: Any = None
) -> ColumnElement[bool]:
    """Which accidents an organisation sees, by the columns of the row at hand."""
    if principal.kind is K.inspectorate:
        return true()
    if principal.kind is K.enterprise and submitted_by_id is not None:
        return submitted_by_id == principal.organisation_id  # type: ignore[no-any-return]
    if principal.kind in AREA_KINDS:
        return in_area(principal, report_id=report_id, district_code=district_code)
    return false()


def readable_reports(principal: Principal) -> ColumnElement[bool]:
    if not may(principal, Action.read_reports):
        return false()
    return _sees(
        principal,
        report_id=Report.id,
        district_code=Report.district_code,
        submitted_by_id=Report.submitted_by_id,
    )


def readable_investigations(principal: Principal) -> ColumnElement[bool]:
    if not may(principal, Action.read_investigations):
        return false()
    return _sees(
        principal, report_id=Investigation.report_id, district_code=Investigation.district_code
    )


def counted(principal: Principal, *, report_id: Any, district_code: Any) -> ColumnElement[bool]:
    """The rows the statistics count for this organisation: the province for the inspectorate,
    the area for the police and committees."""
    if not may(principal, Action.read_statistics):
        return false()
    return _sees(principal, report_id=report_id, district_code=district_code)


def reads_evidence(principal: Principal, report: Report) -> bool:
    """The filing organisation and the labour authority read a report's evidence."""
    return principal.kind is K.inspectorate or report.submitted_by_id == principal.organisation_id


def amends(principal: Principal, report: Report) -> bool:
    """Only the organisation that filed a report amends it."""
    return report.submitted_by_id == principal.organisation_id


def sees_delivery_errors(principal: Principal) -> bool:
    """Who sees every recipient's error text (Security and privacy: a recipient's errors stay
    with the recipient and the operators); anyone else reading the report sees only the class
    of the error."""
    return principal.kind in (K.inspectorate, K.admin)
