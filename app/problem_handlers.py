"""Problems as HTTP answers: the handlers that turn every error into an RFC 9457 document.

:func:`install_handlers` turns :class:`~app.errors.Problem` exceptions, FastAPI's
request-validation errors and Starlette's HTTP errors (404 for unknown paths, 405 with
``Allow``) into problem documents, so no API client ever sees an HTML or bare-JSON error, and
never a stack trace. A request for a web page (not under ``/api``) is answered with a page in
Vietnamese instead, by the renderer the pages install as ``app.state.page_errors``
(app.web.errors): the same status and headers, for a person.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.errors import (
    PROBLEM_MEDIA_TYPE,
    DatabaseUnavailable,
    FieldError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    UnsupportedMediaType,
    ValidationProblem,
    field_errors_from_pydantic,
)

log = logging.getLogger(__name__)


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body(),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: Methods that ask for no change (RFC 9110 §9.2.1): a lost connection changed nothing; the rate
#: limits count them as reads (app.ratelimit).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _allowed_methods(request: Request) -> set[str]:
    """Every method any route accepts on this path (Starlette's own 405 names only one route's).

    Each method is tried against the routes, because included routers do not expose their
    routes' methods."""
    routes = request.app.router.routes
    return {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    }


def answer(request: Request, problem: Problem) -> Response:
    """The problem as problem+json, or as a page when the request is a page's (see module)."""
    page_errors = getattr(request.app.state, "page_errors", None)
    if page_errors is not None:
        page: Response | None = page_errors(request, problem)
        if page is not None:
            return page
    return problem_response(problem)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return answer(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        content_type = request.headers.get("content-type", "")
        body_rejected = any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors())
        if body_rejected and content_type and not _is_json(content_type):
            return answer(
                request, UnsupportedMediaType("The request body must be JSON (application/json)")
            )
        return answer(request, ValidationProblem(field_errors_from_pydantic(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        problem: Problem
        headers = dict(exc.headers or {})
        if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):
            # FastAPI's own 400 for a body json.loads could not read (not UTF-8, too deeply
            # nested): malformed JSON, which is a 422 like any other (contract, General).
            problem = ValidationProblem(
                [FieldError(pointer="", detail="The body is not valid JSON (UTF-8)")]
            )
        elif exc.status_code == 404:
            problem = NotFound("No such resource")
        elif exc.status_code == 413:
            problem = PayloadTooLarge("The request body must be at most 1 MiB")
        elif exc.status_code == 405:
            problem = MethodNotAllowed("This method is not allowed on this resource")
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        else:
            problem = Problem(str(exc.detail))
            problem.status = exc.status_code
            problem.slug = f"http-{exc.status_code}"
            problem.title = str(exc.detail)
        problem.headers.update(headers)
        return answer(request, problem)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if not exc.connection_invalidated:
            return await _unexpected(request, exc)
        # The driver's message names the server's state, never a statement's parameters
        # (hide_parameters, app/db.py); the pool has already let the dead connection go.
        log.warning("database connection lost: %s", type(exc.orig).__name__)
        return answer(request, DatabaseUnavailable(safe=request.method in SAFE_METHODS))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return answer(request, Problem("An unexpected error occurred; it has been logged"))
