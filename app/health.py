from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.migrations import database_is_current
from app.routing import ReleasingRoute

router = APIRouter(tags=["operations"], route_class=ReleasingRoute)


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    # On the event loop, never in a request thread, and not counted by the admission limit
    # (app.admission): it answers whatever the load.
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Database unreachable or not migrated"}},
    summary="The database is reachable and migrated",
)
def readyz() -> JSONResponse:
    ready = database_is_current()
    return JSONResponse(
        {"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503
    )
