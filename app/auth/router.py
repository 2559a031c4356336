from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from app.auth import service
from app.auth.deps import AdminDep
from app.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    OrganisationCreate,
    OrganisationCreated,
    OrganisationRead,
    OrganisationUpdate,
    WebhookSecretCreated,
)
from app.deps import PageDep, SessionDep
from app.pagination import PageOut
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["organisations"], route_class=ReleasingRoute)


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationCreated,
    responses=problems(401, 403, 413, 422),
)
def create_organisation(
    body: OrganisationCreate, session: SessionDep, admin: AdminDep, response: Response
) -> OrganisationCreated:
    organisation = service.create_organisation(session, actor=admin, data=body)
    response.headers["Location"] = f"/api/v1/organisations/{organisation.id}"
    return OrganisationCreated.model_validate(organisation)


@router.get(
    "/organisations",
    response_model=PageOut[OrganisationRead],
    responses=problems(401, 403, 422),
)
def list_organisations(
    session: SessionDep, _admin: AdminDep, params: PageDep
) -> PageOut[OrganisationRead]:
    items, next_cursor = service.list_organisations(session, params=params)
    return PageOut[OrganisationRead](
        items=[OrganisationRead.model_validate(o) for o in items], next_cursor=next_cursor
    )


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationRead,
    responses=problems(401, 403, 404, 422),
)
def get_organisation(
    organisation_id: uuid.UUID, session: SessionDep, _admin: AdminDep
) -> OrganisationRead:
    return OrganisationRead.model_validate(
        service.get_organisation(session, organisation_id=organisation_id)
    )


@router.patch(
    "/organisations/{organisation_id}",
    response_model=OrganisationCreated,
    responses=problems(401, 403, 404, 413, 422),
    summary="Change an organisation's name or channels",
    description="Any of `name`, `notify_emails`, `webhook_url` (`null` removes the webhook). "
    "When a webhook is set where there was none, the answer carries its `webhook_secret` "
    "(shown once).",
)
def update_organisation(
    organisation_id: uuid.UUID, body: OrganisationUpdate, session: SessionDep, admin: AdminDep
) -> OrganisationCreated:
    organisation, secret = service.update_organisation(
        session, actor=admin, organisation_id=organisation_id, data=body
    )
    read = OrganisationRead.model_validate(organisation)
    return OrganisationCreated(**read.model_dump(), webhook_secret=secret)


@router.post(
    "/organisations/{organisation_id}/webhook-secret",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookSecretCreated,
    responses=problems(401, 403, 404, 409, 422),
    summary="Replace the webhook secret (the old one keeps signing for 24 hours)",
)
def rotate_webhook_secret(
    organisation_id: uuid.UUID, session: SessionDep, admin: AdminDep
) -> WebhookSecretCreated:
    secret = service.rotate_webhook_secret(session, actor=admin, organisation_id=organisation_id)
    return WebhookSecretCreated(webhook_secret=secret)


@router.post(
    "/organisations/{organisation_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problems(401, 403, 404, 413, 422),
)
def issue_api_key(
    organisation_id: uuid.UUID,
    session: SessionDep,
    admin: AdminDep,
    body: Annotated[ApiKeyCreate | None, Body()] = None,
) -> ApiKeyCreated:
    key, raw_key = service.issue_api_key(
        session, actor=admin, organisation_id=organisation_id, label=body.label if body else None
    )
    return ApiKeyCreated(id=key.id, key=raw_key, label=key.label, created_at=key.created_at)


@router.get(
    "/organisations/{organisation_id}/api-keys",
    response_model=list[ApiKeyRead],
    responses=problems(401, 403, 404, 422),
)
def list_api_keys(
    organisation_id: uuid.UUID, session: SessionDep, _admin: AdminDep
) -> list[ApiKeyRead]:
    keys = service.list_api_keys(session, organisation_id=organisation_id)
    return [ApiKeyRead.model_validate(k) for k in keys]


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 422),
)
def revoke_api_key(key_id: uuid.UUID, session: SessionDep, admin: AdminDep) -> Response:
    service.revoke_api_key(session, actor=admin, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
