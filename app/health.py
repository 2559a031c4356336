from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.routing import ReleasingRoute

router = APIRouter(tags=["operations"], route_class=ReleasingRoute)


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    # On the event loop, never in a request thread, and not counted by the admission limit
    # (app.admission): it answers whatever the load.
    return Health(status="ok")
