"""The FastAPI application: middleware, routers, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.admission import UNLIMITED_PATHS, Admission
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.config import get_settings
from app.divisions.router import router as divisions_router
from app.docs import install_docs
from app.health import router as health_router
from app.investigations.router import router as investigations_router
from app.limits import BodySizeLimit
from app.notifications.router import router as notifications_router
from app.ops.metrics import Metrics
from app.ops.middleware import RequestTelemetry
from app.ops.router import router as ops_router
from app.people.router import router as people_router
from app.problem_handlers import install_handlers
from app.problems import router as problems_router
from app.query_guard import QueryGuard
from app.ratelimit import PUBLIC_API_PATHS, AddressLimit
from app.reports.router import router as reports_router
from app.responses import problems
from app.security_headers import SecurityHeaders
from app.stats.router import router as stats_router
from app.web.router import install_pages

API_PREFIX = "/api/v1"

DESCRIPTION = """
tnld receives reports of **fatal labour accidents, accidents seriously injuring two or more
workers, and serious technical incidents** (Law 84/2015/QH13 Art. 34; Decree 39/2016/NĐ-CP
Art. 10), stores them as legal evidence, opens the investigation and notifies the police of
the place and the provincial labour authority (Sở Nội vụ).

**Places: two maps.** A report's place is checked against the administrative map in force on
the accident's date (Vietnam time). *Map 2024* (until 2025-06-30): `district_code`, e.g. `643`
Thành phố Buôn Ma Thuột, and optionally one of its communes. *Map 2025* (from 2025-07-01, after
districts were abolished and Phú Yên merged into Đắk Lắk): `commune_code`, one of 102 communes,
e.g. `24121` Phường Tân Lập (in 2024 the same code was Phường Tân Hòa). `GET /divisions?at=`
lists both.

All errors are RFC 9457 `application/problem+json`. Authenticate with
`Authorization: Bearer <api key>`.
"""


#: The routers served under API_PREFIX (each with app.routing.ReleasingRoute).
API_ROUTERS = (
    divisions_router,
    auth_router,
    people_router,
    reports_router,
    notifications_router,
    investigations_router,
    audit_router,
    stats_router,
)


def operation_id(route: APIRoute) -> str:
    return route.name


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()  # fail fast on invalid settings
    # Sync endpoints and dependencies run in anyio's thread pool (default 40 threads).
    to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
    # The delivery worker is not here: ``tnld serve`` runs it as a child process
    # (app.notifications.supervisor), so sending never holds this process's interpreter lock.
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="tnld",
        version="1.0.0",
        summary="Workplace-accident (TNLĐ) reporting for Vietnamese labour authorities",
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs with assets served by tnld (app.docs); no ReDoc (it loads from a CDN).
        docs_url=None,
        redoc_url=None,
        # operationId: the endpoint's own name (file_report, list_investigations, ...), so
        # that generated clients read well; test_openapi checks they are unique.
        generate_unique_id_function=operation_id,
    )
    install_handlers(app)
    app.add_middleware(BodySizeLimit)
    settings = get_settings()
    # Outermost of ours: a request refused for overload costs no body read and no thread.
    app.add_middleware(
        Admission,
        limit=settings.max_requests_in_flight,
        wait_seconds=settings.admission_wait_seconds,
    )
    # Callers without a key are counted per address before routing (and before admission).
    app.add_middleware(AddressLimit)
    app.add_middleware(QueryGuard)
    # Every answer, refusals included, carries the security headers.
    app.add_middleware(SecurityHeaders)
    # Outermost: every request gets its id, log line and metrics, even one refused above.
    app.state.metrics = Metrics()
    app.add_middleware(RequestTelemetry, metrics=app.state.metrics)
    app.include_router(health_router)
    app.include_router(ops_router)
    app.include_router(problems_router)
    install_docs(app, settings)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_pages(app)
    _document_common_problems(app)
    return app


def _document_common_problems(app: FastAPI) -> None:
    """Every operation that takes a body can answer 413 (over 1 MiB, app.limits) and 415 (not
    JSON, app.errors), and every one but /healthz 503 when overloaded (app.admission): document
    them once here rather than on every route."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            extra = problems(413, 415)
            overloaded = problems(503)
            limited = problems(429)
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    documented = {**extra} if "requestBody" in operation else {}
                    if path not in UNLIMITED_PATHS:
                        documented.update(overloaded)
                    if "401" in operation["responses"] or path.startswith(PUBLIC_API_PATHS):
                        # Rate limits count callers by key, or by address without one
                        # (app.ratelimit).
                        documented.update(limited)
                    for status, response in documented.items():
                        operation["responses"].setdefault(
                            str(status),
                            {
                                "description": response["description"],
                                "content": response["content"],
                            },
                        )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
