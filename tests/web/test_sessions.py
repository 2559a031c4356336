"""Logging in and out: server-side sessions, CSRF, throttling; sessions and API keys apart."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import get_settings
from app.db import session_factory
from app.people.models import WebSession
from tests.helpers import Org
from tests.web.conftest import PASSWORD, People, log_in, login_page_token, make_person

PAGES = ["/", "/bao-cao", "/bao-cao/moi", "/dieu-tra", "/thong-ke", "/thong-bao-loi", "/quan-tri"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_login_redirects_to_the_login_page(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dang-nhap"


def test_the_login_page_is_in_vietnamese_with_its_fields(anonymous: TestClient) -> None:
    page = anonymous.get("/dang-nhap")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert 'name="viewport"' in page.text
    for name in ("email", "password", "csrf_token"):
        assert f'name="{name}"' in page.text
    assert 'id="email"' in page.text
    assert 'id="password"' in page.text


def test_login_sets_an_httponly_samesite_lax_cookie_and_leads_to_the_start_page(
    anonymous: TestClient, enterprise: Org
) -> None:
    email = make_person(enterprise)
    token = login_page_token(anonymous)
    response = anonymous.post(
        "/dang-nhap",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("tnld_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over http; production sets Secure
    home = anonymous.get("/")
    assert home.status_code == 200
    assert "Nguyễn Thị Mai" in home.text


def test_each_login_gets_a_new_session_id(anonymous: TestClient, enterprise: Org) -> None:
    email = make_person(enterprise)
    assert log_in(anonymous, email) == 303
    first = anonymous.cookies.get("tnld_session")
    assert log_in(anonymous, email) == 303
    second = anonymous.cookies.get("tnld_session")
    assert first
    assert second
    assert first != second


def test_the_session_token_is_stored_only_as_a_hash(anonymous: TestClient, enterprise: Org) -> None:
    assert log_in(anonymous, make_person(enterprise)) == 303
    token = anonymous.cookies.get("tnld_session")
    with session_factory()() as session:
        hashes = session.scalars(select(WebSession.token_hash)).all()
    assert token not in hashes
    assert len(hashes) == 1


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    anonymous: TestClient, enterprise: Org
) -> None:
    email = make_person(enterprise)
    assert log_in(anonymous, email, "sai-mat-khau-roi") == 401
    token = login_page_token(anonymous)
    page = anonymous.post(
        "/dang-nhap", data={"email": email, "password": "sai-mat-khau-roi", "csrf_token": token}
    )
    assert "Thư điện tử hoặc mật khẩu không đúng" in page.text
    assert 'href="#email"' in page.text
    unknown = anonymous.post(
        "/dang-nhap",
        data={
            "email": "khong-co@tnld.test",
            "password": PASSWORD,
            "csrf_token": login_page_token(anonymous),
        },
    )
    assert unknown.status_code == 401
    assert "Thư điện tử hoặc mật khẩu không đúng" in unknown.text


def test_a_login_without_the_pages_token_is_refused(anonymous: TestClient, enterprise: Org) -> None:
    email = make_person(enterprise)
    response = anonymous.post(
        "/dang-nhap", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "tnld_session" not in anonymous.cookies


def test_logout_ends_the_session_on_the_server(people: People, enterprise: Org) -> None:
    user = people.of(enterprise)
    stolen = user.client.cookies.get("tnld_session")
    token = user.csrf("/")
    response = user.client.post("/dang-xuat", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dang-nhap"
    with session_factory()() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    user.client.cookies.set("tnld_session", stolen or "")
    assert user.client.get("/", follow_redirects=False).status_code == 303


def test_logout_without_the_token_is_refused(people: People, enterprise: Org) -> None:
    user = people.of(enterprise)
    response = user.client.post("/dang-xuat", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert user.client.get("/", follow_redirects=False).status_code == 200


def test_a_session_ends_after_an_idle_hour(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    frozen_clock.advance(timedelta(minutes=59))
    assert user.client.get("/", follow_redirects=False).status_code == 200
    frozen_clock.advance(timedelta(minutes=61))
    assert user.client.get("/", follow_redirects=False).status_code == 303


def test_a_session_ends_twelve_hours_after_login_however_active(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    for _ in range(23):
        frozen_clock.advance(timedelta(minutes=30))
        assert user.client.get("/", follow_redirects=False).status_code == 200
    frozen_clock.advance(timedelta(minutes=31))
    assert user.client.get("/", follow_redirects=False).status_code == 303


def test_failed_logins_are_throttled_per_account(
    anonymous: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    email = make_person(enterprise)
    for _ in range(5):
        assert log_in(anonymous, email, "sai-mat-khau-roi") == 401
    token = login_page_token(anonymous)
    page = anonymous.post(
        "/dang-nhap", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert page.status_code == 429
    assert "quá nhiều lần đăng nhập sai" in page.text
    frozen_clock.advance(timedelta(minutes=16))
    assert log_in(anonymous, email) == 303


def test_failed_logins_are_throttled_per_address(
    anonymous: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    for number in range(5):
        assert log_in(anonymous, f"doan-{number}@tnld.test", "sai-mat-khau-roi") == 401
    # Another account, same address: refused until the window has passed.
    assert log_in(anonymous, make_person(enterprise)) == 429


def test_login_attempts_zero_turns_throttling_off(
    anonymous: TestClient, enterprise: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TNLD_LOGIN_ATTEMPTS", "0")
    get_settings.cache_clear()
    try:
        email = make_person(enterprise)
        for _ in range(7):
            assert log_in(anonymous, email, "sai-mat-khau-roi") == 401
        assert log_in(anonymous, email) == 303
    finally:
        monkeypatch.delenv("TNLD_LOGIN_ATTEMPTS")
        get_settings.cache_clear()


def test_a_session_cookie_does_not_authenticate_the_api(people: People, enterprise: Org) -> None:
    user = people.of(enterprise)
    response = user.client.get("/api/v1/reports")
    assert response.status_code == 401


def test_an_api_key_does_not_open_pages(anonymous: TestClient, enterprise: Org) -> None:
    response = anonymous.get("/bao-cao", headers=enterprise.headers, follow_redirects=False)
    assert response.status_code == 303


def test_pages_carry_the_security_headers(people: People, enterprise: Org) -> None:
    user = people.of(enterprise)
    page = user.client.get("/bao-cao/moi")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp  # no script at all
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    assert re.search(r"\sstyle=", page.text) is None


def test_static_files_are_served_by_tnld(anonymous: TestClient) -> None:
    css = anonymous.get("/static/site.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


def test_in_production_the_cookie_is_secure_and_host_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.web.deps import cookie_options, session_cookie_name

    monkeypatch.setenv("TNLD_ENV", "production")
    monkeypatch.setenv("TNLD_PASSWORD_HASHING", "standard")
    get_settings.cache_clear()
    try:
        assert session_cookie_name() == "__Host-tnld_session"
        assert cookie_options() == {
            "httponly": True,
            "samesite": "lax",
            "secure": True,
            "path": "/",
        }
    finally:
        monkeypatch.delenv("TNLD_ENV")
        monkeypatch.delenv("TNLD_PASSWORD_HASHING")
        get_settings.cache_clear()


def test_fast_password_hashing_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from app.config import Settings

    monkeypatch.setenv("TNLD_ENV", "production")
    with pytest.raises(ValidationError, match="for tests only"):
        Settings()
