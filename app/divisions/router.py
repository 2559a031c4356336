from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.divisions.service import divisions
from app.routing import ReleasingRoute

router = APIRouter(tags=["divisions"], route_class=ReleasingRoute)


class DivisionRead(BaseModel):
    code: str
    name: str


@router.get("/divisions", response_model=list[DivisionRead], summary="District-level units")
def list_divisions() -> list[DivisionRead]:
    """The province's district-level units (no authentication needed)."""
    return [DivisionRead(code=d.code, name=d.name) for d in divisions()]
