from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.auth.models import OrganisationKind


@dataclass(frozen=True)
class Principal:
    """Who is calling: an organisation, through one of its API keys."""

    organisation_id: uuid.UUID
    organisation_name: str
    kind: OrganisationKind
    district_code: str | None
    api_key_id: uuid.UUID | None
    #: The organisation's area (contract, Organisations and roles): at most one of the three.
    commune_code: str | None = None
    province_code: str | None = None
