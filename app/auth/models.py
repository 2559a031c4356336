from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, JSONDocument, UTCDateTime, new_id


class OrganisationKind(enum.StrEnum):
    enterprise = "enterprise"
    commune_committee = "commune_committee"
    #: Legacy: accidents before 2025-07-01, when districts were abolished.
    district_committee = "district_committee"
    police = "police"
    inspectorate = "inspectorate"
    admin = "admin"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, name="organisation_kind", native_enum=False, length=32),
        index=True,
    )
    district_code: Mapped[str | None] = mapped_column(String(16), index=True)
    tax_code: Mapped[str | None] = mapped_column(String(14))
    notify_emails: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # Kept retrievable: it is the HMAC key the service signs webhooks with (Standard Webhooks).
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The area (contract, Organisations and roles): one code of the map its kind names
    #: (``district_code`` above: a district of map 2024, legacy).
    commune_code: Mapped[str | None] = mapped_column(String(16), index=True)
    province_code: Mapped[str | None] = mapped_column(String(16))

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="organisation")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    #: The first characters of the key, to recognise it in listings; not enough to use it.
    prefix: Mapped[str] = mapped_column(String(16))
    #: HMAC-SHA256 of the key under TNLD_SECRET_KEY; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="api_keys")
