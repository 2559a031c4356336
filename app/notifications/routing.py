"""Who is told about a report: the one place that decides it (contract, Notifications).

- Every inspectorate: the provincial labour authority (Law 84/2015 Art. 34.1.b; Sở Nội vụ since
  1 March 2025, Decree 25/2025/NĐ-CP).
- The police of the place: every police organisation whose area covers it: the commune police
  of any of the report's current communes, the provincial police, a (legacy) district police of
  its 2024 district. District police ended on 1 March 2025 (Decree 02/2025/NĐ-CP); which police
  receives a case today is not settled in any text (DOMAIN.md), so tnld notifies every one
  registered for the place and the province decides by registering. None: one ``unroutable``
  delivery, and the inspectorate's e-mail says so. ``TNLD_NOTIFY_POLICE=fatal`` limits the police
  to reports with a death (Art. 34.1.b); the default ``notifiable`` follows the provincial plan.
- A serious technical incident: also the local government of the place (Art. 19.2.a), today the
  commune committee (Decree 128/2025 Art. 9), when registered with a channel; else unroutable.

Recipients are data (organisations); places are data (app.divisions).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, false, or_, select
from sqlalchemy.orm import Session

from app.accidents import Category, Severity
from app.auth.models import Organisation, OrganisationKind
from app.config import get_settings
from app.divisions.service import divisions
from app.notifications.channels import OrganisationRow
from app.notifications.models import Channel
from app.notifications.registry import SENDERS, organisation_columns

K = OrganisationKind
#: Longest recipient name a delivery stores.
MAX_NAME = 200


@dataclass(frozen=True)
class Route:
    """A recipient organisation on one channel; ``organisation_id`` None means unroutable."""

    organisation_id: uuid.UUID | None
    channel: Channel | None
    name: str
    kind: OrganisationKind


@dataclass(frozen=True)
class ReportPlace:
    """What routing needs to know of a report."""

    category: Category
    severity: Severity
    district_code: str | None
    current_commune_codes: Sequence[str]


def _recipients(*, police: bool, committees: bool) -> Any:
    kinds = [Organisation.kind == OrganisationKind.inspectorate]
    if police:
        kinds.append(
            (Organisation.kind == OrganisationKind.police)
            & or_(
                Organisation.commune_code.in_(bindparam("communes", expanding=True)),
                Organisation.province_code.in_(bindparam("provinces", expanding=True)),
                Organisation.district_code == bindparam("district_code"),
            )
        )
    if committees:
        kinds.append(
            (Organisation.kind == OrganisationKind.commune_committee)
            & Organisation.commune_code.in_(bindparam("communes", expanding=True))
        )
    statement = (
        select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            *(getattr(Organisation, c) for c in organisation_columns(sending=False)),
        )
        .where(or_(false(), *kinds))
        .order_by(Organisation.kind, Organisation.created_at, Organisation.id)
    )
    return statement


#: Every filing asks one of these: built once, plain columns (no ORM entities).
_STATEMENTS = {
    (police, committees): _recipients(police=police, committees=committees)
    for police in (False, True)
    for committees in (False, True)
}


def notifies_police(severity: Severity) -> bool:
    """``TNLD_NOTIFY_POLICE``: ``fatal`` is the Law's minimum (Art. 34.1.b: when someone died);
    ``notifiable`` (default) every accepted report, as the Đắk Lắk plan asks."""
    return get_settings().notify_police == "notifiable" or severity is Severity.fatal


def _local_name(prefix: str, communes: Sequence[str]) -> str:
    """An unroutable recipient, named as today's map names the commune(s): "Công an phường
    Tân Lập" (never a body that no longer exists)."""
    places = divisions()
    units = [u for u in (places.latest(code, level="commune") for code in communes) if u]
    name = f"{prefix} " + ", ".join(u.in_sentence for u in units)
    if not units or len(name) > MAX_NAME:
        return f"{prefix} nơi xảy ra"
    return name


def routes_for(session: Session, *, place: ReportPlace) -> list[Route]:
    police = notifies_police(place.severity)
    committees = place.category is Category.technical_incident
    places = divisions()
    provinces = sorted(
        {
            unit.parent_code
            for unit in (places.latest(c, level="commune") for c in place.current_commune_codes)
            if unit is not None and unit.parent_code is not None
        }
    )
    statement = _STATEMENTS[(police, committees)]
    recipients = (
        session.connection()
        .execute(
            statement,
            {
                "communes": list(place.current_commune_codes),
                "provinces": provinces,
                "district_code": place.district_code,
            },
        )
        .all()
    )
    routes: list[Route] = []
    if police and not any(r.kind is OrganisationKind.police for r in recipients):
        routes.append(
            Route(None, None, _local_name("Công an", place.current_commune_codes), K.police)
        )
    reachable_committees = [
        r
        for r in recipients
        if r.kind is OrganisationKind.commune_committee and organisation_routes(r._mapping)
    ]
    if committees and not reachable_committees:
        routes.append(
            Route(
                None,
                None,
                _local_name("UBND", place.current_commune_codes),
                K.commune_committee,
            )
        )
    for recipient in recipients:
        routes += organisation_routes(recipient._mapping)
    return routes


def organisation_routes(organisation: OrganisationRow) -> list[Route]:
    """An organisation on every channel it can be reached on (``id``, ``name``, ``kind`` and
    the channels' route columns)."""
    return [
        Route(organisation["id"], channel, organisation["name"], organisation["kind"])
        for channel, sender in SENDERS.items()
        if sender.reaches(organisation)
    ]
