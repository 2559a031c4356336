"""Who is told about a report: the one place that decides it.

Law 84/2015 Art. 34 and Decree 39/2016 Art. 10: the district police of the place and the
provincial labour inspectorate. Recipients are data (organisations), not code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrganisationKind
from app.divisions.service import division_name
from app.notifications.models import Channel


@dataclass(frozen=True)
class Route:
    """A recipient organisation on one channel; ``organisation`` None means unroutable."""

    organisation: Organisation | None
    channel: Channel | None
    name: str
    kind: OrganisationKind


def routes_for(session: Session, *, district_code: str) -> list[Route]:
    recipients = session.scalars(
        select(Organisation)
        .where(
            or_(
                Organisation.kind == OrganisationKind.inspectorate,
                (Organisation.kind == OrganisationKind.police)
                & (Organisation.district_code == district_code),
            )
        )
        .order_by(Organisation.kind, Organisation.created_at, Organisation.id)
    ).all()
    routes: list[Route] = []
    if not any(o.kind is OrganisationKind.police for o in recipients):
        routes.append(
            Route(
                organisation=None,
                channel=None,
                name=f"Công an {division_name(district_code)}",
                kind=OrganisationKind.police,
            )
        )
    for organisation in recipients:
        if organisation.notify_emails:
            routes.append(Route(organisation, Channel.email, organisation.name, organisation.kind))
        if organisation.webhook_url:
            routes.append(
                Route(organisation, Channel.webhook, organisation.name, organisation.kind)
            )
    return routes
