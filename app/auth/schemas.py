from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.auth.models import OrganisationKind
from app.fields import Email, Label, Name, PlaceCode, StrictStr, TaxCode, Timestamp


def _webhook_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if len(value) > 2000:
        raise ValueError("must be at most 2000 characters")
    if any(ch.isspace() or ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("must not contain spaces, control characters or lone surrogates")
    return value


WebhookUrl = Annotated[StrictStr, AfterValidator(_webhook_url)]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: OrganisationKind
    commune_code: PlaceCode | None = Field(
        default=None,
        description="A commune of map 2025 (in force from 2025-07-01), e.g. `24121` Phường Tân "
        "Lập: the area of a `commune_committee` or of a commune police.",
    )
    district_code: PlaceCode | None = Field(
        default=None,
        description="A district of map 2024 (until 2025-06-30), e.g. `643` Thành phố Buôn Ma "
        "Thuột: the area of a legacy `district_committee` or district police.",
    )
    province_code: PlaceCode | None = Field(
        default=None, description="`66` (Đắk Lắk): the area of the provincial police."
    )
    tax_code: TaxCode | None = None
    notify_emails: Annotated[list[Email], Field(max_length=20)] | None = None
    webhook_url: WebhookUrl | None = None


class OrganisationUpdate(BaseModel):
    """What may change without re-creating an organisation (its kind and area may not)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    notify_emails: Annotated[list[Email], Field(max_length=20)] | None = None
    webhook_url: WebhookUrl | None = Field(
        default=None, description="`null` removes the webhook (and its secret)."
    )


class WebhookSecretCreated(BaseModel):
    webhook_secret: str = Field(
        description="The new secret, shown once. For 24 hours webhooks carry signatures with "
        "the new and the old secret, space-separated."
    )


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OrganisationKind
    commune_code: str | None
    district_code: str | None
    province_code: str | None
    tax_code: str | None
    notify_emails: list[str]
    webhook_url: str | None
    created_at: Timestamp


class OrganisationCreated(OrganisationRead):
    webhook_secret: str | None = Field(
        default=None,
        description="Shown only in this response, when `webhook_url` is set: "
        "`whsec_` + base64 of 32 random bytes (Standard Webhooks).",
    )


class OrganisationRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OrganisationKind


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label | None = None


class ApiKeyCreated(BaseModel):
    id: uuid.UUID
    key: str = Field(description="The API key. Shown once: only a keyed hash is stored.")
    label: str | None
    created_at: Timestamp


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    label: str | None
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
