"""Logging in and out, and each person's start page."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from app.auth.models import OrganisationKind
from app.deps import SessionDep
from app.people.service import LoginRefused, log_in, log_out, person_for
from app.web.deps import (
    FormDep,
    PersonDep,
    check_csrf,
    cookie_options,
    login_csrf_cookie_name,
    page_router,
    session_cookie_name,
)
from app.web.templating import render

router = page_router()
K = OrganisationKind


def _login_page(*, email: str = "", error: str | None = None, status_code: int = 200) -> Response:
    """The login form with a fresh pre-session CSRF token (double submit: cookie and field)."""
    token = secrets.token_urlsafe(32)
    response = render(
        "login.html",
        {
            "person": None,
            "csrf_token": token,
            "email": email,
            "error": error,
            "title": "Đăng nhập" if error is None else "Lỗi: Đăng nhập",
        },
        status_code=status_code,
    )
    response.set_cookie(login_csrf_cookie_name(), token, max_age=3600, **cookie_options())
    return response


@router.get("/dang-nhap")
def login_form() -> Response:
    return _login_page()


@router.post("/dang-nhap")
def login(request: Request, form: FormDep, session: SessionDep) -> Response:
    expected = request.cookies.get(login_csrf_cookie_name(), "")
    given = form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return render(
            "error.html",
            {
                "person": None,
                "title": "Biểu mẫu đã hết hiệu lực",
                "message": "Hãy mở lại trang đăng nhập và thử lại.",
            },
            status_code=403,
        )
    email = form.get("email", "")
    address = request.client.host if request.client else "unknown"
    try:
        logged_in = log_in(session, email=email, password=form.get("password", ""), address=address)
    except LoginRefused as refused:
        if refused.throttled:
            return _login_page(
                email=email,
                error="Đã có quá nhiều lần đăng nhập sai. Vì an toàn, hãy chờ 15 phút rồi thử "
                "lại, hoặc liên hệ quản trị viên.",
                status_code=429,
            )
        return _login_page(
            email=email,
            error="Thư điện tử hoặc mật khẩu không đúng.",
            status_code=401,
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(session_cookie_name(), logged_in.token, **cookie_options())
    response.delete_cookie(login_csrf_cookie_name(), **cookie_options())
    return response


@router.post("/dang-xuat")
def logout(request: Request, form: FormDep, session: SessionDep) -> Response:
    token = request.cookies.get(session_cookie_name())
    person = person_for(session, token=token) if token else None
    if person is not None and token is not None:
        check_csrf(form, person.csrf_token)
        log_out(session, token=token)
    response = RedirectResponse("/dang-nhap", status_code=303)
    response.delete_cookie(session_cookie_name(), **cookie_options())
    return response


@router.get("/")
def home(person: PersonDep) -> Response:
    kind = person.principal.kind
    if kind in (K.inspectorate, K.police):
        return RedirectResponse("/dieu-tra", status_code=303)
    if kind is K.admin:
        return RedirectResponse("/quan-tri", status_code=303)
    return render("home.html", {"person": person, "title": "Trang chính"})
