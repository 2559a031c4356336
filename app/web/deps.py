"""Who is behind a page request, what their role may see, CSRF, and errors as pages."""

from __future__ import annotations

import functools
import hmac
import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.deps import SessionDep
from app.errors import Problem
from app.people.service import Person, person_for
from app.policy import Action, may
from app.web.errors import MESSAGES
from app.web.templating import render

LOGIN_PATH = "/dang-nhap"


def session_cookie_name() -> str:
    # The __Host- prefix (RFC 6265bis) pins the cookie to this host and path "/" over HTTPS.
    return "__Host-tnld_session" if get_settings().env == "production" else "tnld_session"


def login_csrf_cookie_name() -> str:
    return "__Host-tnld_login" if get_settings().env == "production" else "tnld_login"


def cookie_options() -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": get_settings().env == "production",
        "path": "/",
    }


class LoginRequired(Exception):
    """No live session: the page redirects (303) to the login page."""


class PageForbidden(Exception):
    """A page outside the person's role (403)."""


class CsrfRefused(Exception):
    """A POST without the page's token (403)."""


def current_person(request: Request, session: SessionDep) -> Person:
    token = request.cookies.get(session_cookie_name())
    person = person_for(session, token=token) if token else None
    session.rollback()  # no transaction held while the page waits for its thread
    if person is None:
        raise LoginRequired()
    return person


PersonDep = Annotated[Person, Depends(current_person)]


def role(action: Action) -> Callable[[Person], Coroutine[Any, Any, Person]]:
    """Admits the people of organisations that may do ``action`` (app/policy.py)."""

    async def check(person: PersonDep) -> Person:
        if not may(person.principal, action):
            raise PageForbidden()
        return person

    return check


ReporterDep = Annotated[Person, Depends(role(Action.file_reports))]
ReaderDep = Annotated[Person, Depends(role(Action.read_reports))]
InspectorDep = Annotated[Person, Depends(role(Action.manage_investigations))]
PoliceOrInspectorDep = Annotated[Person, Depends(role(Action.read_investigations))]
AdminPersonDep = Annotated[Person, Depends(role(Action.administer))]
StatsReaderDep = Annotated[Person, Depends(role(Action.read_statistics))]

Form = dict[str, str]


async def read_form(request: Request) -> Form:
    """An urlencoded form, one value per name (the last). The body size is limited by
    app.limits before it gets here."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


FormDep = Annotated[Form, Depends(read_form)]


def check_csrf(form: Form, expected: str) -> None:
    given = form.get("csrf_token", "")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused()


async def person_form(request: Request, person: Person) -> Form:
    """The posted form, after its CSRF token was checked against the person's session."""
    form = await read_form(request)
    check_csrf(form, person.csrf_token)
    return form


def _error_page(status: int, title: str, message: str, person: Person | None = None) -> Response:
    return render(
        "error.html",
        {"title": title, "message": message, "person": person},
        status_code=status,
    )


def _closing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A page ends its session in the thread that used it (as app.routing.ReleasingRoute does
    for the API): a page that only read, or answered with a form's errors, rolls back."""

    @functools.wraps(endpoint)  # FastAPI reads the signature through __wrapped__
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return run


class PageRoute(APIRoute):
    """Errors of a page as pages: 303 to the login page, 403 and 404 in Vietnamese."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _closing(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return RedirectResponse(LOGIN_PATH, status_code=303)
            except PageForbidden:
                return _error_page(403, *MESSAGES[403])
            except CsrfRefused:
                return _error_page(
                    403,
                    "Biểu mẫu đã hết hiệu lực",
                    "Biểu mẫu không còn hợp lệ (thiếu mã bảo vệ). Hãy quay lại trang, "
                    "tải lại và gửi lại.",
                )
            except Problem as problem:
                # 422 here is a forged or outdated link (a cursor, a filter).
                if problem.status in (404, 409, 422):
                    return _error_page(problem.status, *MESSAGES[problem.status])
                raise

        return page_handler


def page_router() -> APIRouter:
    """A router of pages: errors as pages (PageRoute), nothing in the API's OpenAPI."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)
