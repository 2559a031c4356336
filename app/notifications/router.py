from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.deps import PrincipalDep, require
from app.auth.principal import Principal
from app.deps import PageDep, SessionDep
from app.notifications import service
from app.notifications.models import DeliveryStatus
from app.notifications.schemas import DeliveryRead, UndeliveredRead, UndeliveredStatus
from app.pagination import PageOut
from app.policy import Action
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["notifications"], route_class=ReleasingRoute)

Reader = Annotated[
    Principal,
    Depends(require(Action.read_reports)),
]
Operator = Annotated[Principal, Depends(require(Action.operate_deliveries))]


@router.get(
    "/reports/{report_id}/notifications",
    response_model=list[DeliveryRead],
    responses=problems(401, 403, 404, 422),
    summary="Who was notified of a report, on which channel, and how it went",
)
def list_report_notifications(
    report_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[DeliveryRead]:
    deliveries = service.list_for_report(session, principal=principal, report_id=report_id)
    return [service.to_read(d, principal) for d in deliveries]


@router.post(
    "/notifications/{delivery_id}/acknowledge",
    response_model=DeliveryRead,
    responses=problems(401, 404, 422),
    summary="Acknowledge receipt (the recipient organisation only; repeat calls keep the "
    "first time)",
)
def acknowledge_notification(
    delivery_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> DeliveryRead:
    return service.to_read(
        service.acknowledge(session, principal=principal, delivery_id=delivery_id)
    )


@router.get(
    "/notifications/undelivered",
    response_model=PageOut[UndeliveredRead],
    responses=problems(401, 403, 422),
    summary="Notifications that did not get through (failed or unroutable), across reports",
    description="For the inspectorate and administrators; newest first. Without `status`, "
    "both `failed` and `unroutable` are listed.",
)
def list_undelivered_notifications(
    principal: Operator,
    session: SessionDep,
    params: PageDep,
    status: Annotated[
        list[UndeliveredStatus] | None, Query(description="`failed` and/or `unroutable`")
    ] = None,
    report_id: uuid.UUID | None = None,
) -> PageOut[UndeliveredRead]:
    items, next_cursor = service.list_undelivered(
        session,
        statuses=[DeliveryStatus(s) for s in status or []],
        report_id=report_id,
        params=params,
    )
    return PageOut[UndeliveredRead](
        items=[service.to_undelivered(d) for d in items], next_cursor=next_cursor
    )


@router.post(
    "/notifications/{delivery_id}/retry",
    response_model=DeliveryRead,
    responses=problems(401, 403, 404, 409, 422),
    summary="Send a failed notification again, now, with a fresh retry schedule",
)
def retry_notification(
    delivery_id: uuid.UUID, principal: Operator, session: SessionDep
) -> DeliveryRead:
    return service.to_read(service.retry(session, principal=principal, delivery_id=delivery_id))
