from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.fields import Timestamp


class AuditEventRead(BaseModel):
    id: int = Field(description="Increasing: the order in which events were recorded")
    occurred_at: Timestamp
    actor_organisation_id: uuid.UUID | None = Field(
        description="The acting organisation; null for the command line or the system"
    )
    actor_api_key_id: uuid.UUID | None = Field(description="The API key it acted through")
    action: str = Field(description="e.g. report.filed, report.amended, investigation.updated")
    object_type: str = Field(description="organisation, api_key, report, investigation or delivery")
    object_id: str
    changes: dict[str, Any] = Field(
        description="The changed fields. Personal data (victims, free text) is not copied "
        "here: the trail names the fields, the object holds the values."
    )
