"""Who is told about a report: the one place that decides it.

Law 84/2015 Art. 34.1.b and Decree 39/2016 Art. 10: the provincial labour authority for every
notifiable accident and, when someone died, the police of the place too; the Đắk Lắk plan
(December 2024) asks for the police for every notifiable accident as well (TNLD_NOTIFY_POLICE).
Recipients are data (organisations), not code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrganisationKind
from app.divisions.service import division_name
from app.notifications.models import Channel


@dataclass(frozen=True)
class Route:
    """A recipient organisation on one channel; ``organisation_id`` None means unroutable."""

    organisation_id: uuid.UUID | None
    channel: Channel | None
    name: str
    kind: OrganisationKind


#: Every filing asks this: built once, plain columns (no ORM entities).
_RECIPIENTS = (
    select(
        Organisation.id,
        Organisation.name,
        Organisation.kind,
        Organisation.notify_emails,
        Organisation.webhook_url,
    )
    .where(
        or_(
            Organisation.kind == OrganisationKind.inspectorate,
            (Organisation.kind == OrganisationKind.police)
            & (Organisation.district_code == bindparam("district_code")),
        )
    )
    .order_by(Organisation.kind, Organisation.created_at, Organisation.id)
)


def routes_for(session: Session, *, district_code: str) -> list[Route]:
    recipients = session.connection().execute(_RECIPIENTS, {"district_code": district_code}).all()
    routes: list[Route] = []
    if not any(r.kind is OrganisationKind.police for r in recipients):
        routes.append(
            Route(
                organisation_id=None,
                channel=None,
                name=f"Công an {division_name(district_code)}",
                kind=OrganisationKind.police,
            )
        )
    for recipient in recipients:
        if recipient.notify_emails:
            routes.append(Route(recipient.id, Channel.email, recipient.name, recipient.kind))
        if recipient.webhook_url:
            routes.append(Route(recipient.id, Channel.webhook, recipient.name, recipient.kind))
    return routes
