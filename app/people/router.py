from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.auth.deps import AdminDep
from app.deps import SessionDep
from app.people import service
from app.people.schemas import UserCreate, UserRead
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["people"], route_class=ReleasingRoute)


@router.post(
    "/organisations/{organisation_id}/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problems(401, 403, 404, 409, 413, 422),
    summary="Create a person of the organisation, who logs in to the web pages at /dang-nhap",
)
def create_user(
    organisation_id: uuid.UUID,
    body: UserCreate,
    session: SessionDep,
    admin: AdminDep,
    response: Response,
) -> UserRead:
    user = service.create_user(
        session,
        actor=admin,
        organisation_id=organisation_id,
        email=body.email,
        full_name=body.full_name,
        password=body.password,
    )
    response.headers["Location"] = f"/api/v1/organisations/{organisation_id}/users/{user.id}"
    return UserRead.model_validate(user)
