from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.audit import service
from app.audit.schemas import AuditEventRead
from app.auth.deps import require
from app.auth.principal import Principal
from app.deps import PageDep, SessionDep
from app.pagination import PageOut
from app.policy import Action
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["audit"], route_class=ReleasingRoute)

Auditor = Annotated[Principal, Depends(require(Action.read_audit))]


@router.get(
    "/audit-events",
    response_model=PageOut[AuditEventRead],
    responses=problems(401, 403, 422),
    summary="The append-only audit trail (inspectorate and admin)",
    description="Oldest first. Filter by `object_type` and/or `object_id` (e.g. "
    "`object_type=investigation&object_id=<id>`) and by `action`. Audit events are written "
    "by the service in the same transaction as the change they record; no endpoint updates "
    "or deletes them.",
)
def list_audit_events(
    principal: Auditor,
    session: SessionDep,
    params: PageDep,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> PageOut[AuditEventRead]:
    items, next_cursor = service.list_events(
        session,
        object_type=object_type,
        object_id=object_id,
        action=action,
        params=params,
    )
    return PageOut[AuditEventRead](
        items=[AuditEventRead.model_validate(e, from_attributes=True) for e in items],
        next_cursor=next_cursor,
    )
