"""``/metrics`` and ``/readyz``: for operators and load balancers, off the public API."""

from __future__ import annotations

import ipaddress
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.config import get_settings
from app.errors import NotFound
from app.ops.metrics import Metrics
from app.ops.readiness import Readiness, readiness
from app.routing import ReleasingRoute

router = APIRouter(tags=["operations"], route_class=ReleasingRoute)


def _allowed(request: Request) -> bool:
    token = get_settings().metrics_token
    if token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            presented.strip().encode(), token.get_secret_value().encode()
        )
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format. Only with ``Authorization: Bearer <TNLD_METRICS_TOKEN>``, or from
    loopback when that is unset; anyone else is told there is nothing here (404)."""
    if not _allowed(request):
        raise NotFound()
    collected: Metrics = request.app.state.metrics
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Database unreachable or not migrated"}},
    summary="The database is reachable and migrated; the worker's and the outbox's ages",
)
def readyz() -> JSONResponse:
    """200 when the database is reachable and at the latest revision, else 503. The body also
    says how long ago a delivery worker last reported alive (null: never) and the age of the
    oldest pending delivery (0: none pending), so a stuck worker is seen."""
    state = readiness()
    return JSONResponse(state.model_dump(), status_code=200 if state.status == "ready" else 503)
