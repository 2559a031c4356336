from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Email, Name, StrictStr, Timestamp
from app.people.service import MIN_PASSWORD_LENGTH


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: Name
    password: StrictStr = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=1000,
        description=f"At least {MIN_PASSWORD_LENGTH} characters; stored only as an Argon2id hash",
    )


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    organisation_id: uuid.UUID
    created_at: Timestamp
