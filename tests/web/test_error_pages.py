"""Errors on page URLs are pages in Vietnamese; the API under /api keeps problem+json."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.assertions import assert_problem

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def assert_page(response: object, status: int, text: str) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    body = response.text  # type: ignore[attr-defined]
    assert '<html lang="vi">' in body
    assert text in body
    assert "problem" not in response.headers["content-type"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path", ["/bao-cao/moi/khong-co", "/dieu-tra/a/b/c", "/quan-tri/khong-co", "/thong-ke/x"]
)
def test_an_unknown_path_under_the_pages_is_a_404_page(anonymous: TestClient, path: str) -> None:
    assert_page(anonymous.get(path), 404, "Không tìm thấy")


def test_an_unknown_path_is_a_page_for_a_browser_and_a_problem_for_a_system(
    anonymous: TestClient,
) -> None:
    assert_page(anonymous.get("/khong-co-trang-nay", headers=BROWSER), 404, "Không tìm thấy")
    assert_problem(anonymous.get("/khong-co-trang-nay"), 404, type_suffix="not-found")


def test_a_method_a_page_does_not_take_is_a_405_page_with_allow(anonymous: TestClient) -> None:
    response = anonymous.put("/bao-cao/moi")
    assert_page(response, 405, "Không thực hiện được thao tác này")
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "POST"}
    assert_page(anonymous.delete("/dang-nhap"), 405, "Không thực hiện được")


def test_a_request_validation_error_on_a_page_url_is_a_422_page() -> None:
    """FastAPI's own validation (a typed parameter it cannot read) on a page's path: the
    pages take text parameters and read them themselves, so a route is added for the test."""
    app = create_app()

    @app.get("/bao-cao/thu/{number}")
    def typed(number: int) -> dict[str, int]:
        return {"number": number}

    @app.get("/api/v1/thu/{number}")
    def typed_api(number: int) -> dict[str, int]:
        return {"number": number}

    with TestClient(app) as client:
        assert_page(client.get("/bao-cao/thu/mot"), 422, "Liên kết không hợp lệ")
        assert_problem(client.get("/api/v1/thu/mot", headers=BROWSER), 422)


def test_the_api_keeps_problem_json_even_for_a_browser(anonymous: TestClient) -> None:
    assert_problem(anonymous.get("/api/v1/khong-co", headers=BROWSER), 404)
    response = anonymous.put("/api/v1/reports", headers=BROWSER)
    assert_problem(response, 405, type_suffix="method-not-allowed")
    assert_problem(anonymous.get("/api/v1/divisions?at=hom-nay", headers=BROWSER), 422)


def test_error_pages_carry_the_pages_security_headers(anonymous: TestClient) -> None:
    response = anonymous.get("/bao-cao/moi/khong-co")
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["cache-control"] == "no-store"


def test_a_form_over_the_size_limit_is_a_413_page(anonymous: TestClient) -> None:
    response = anonymous.post(
        "/bao-cao/moi",
        content=b"summary=" + b"a" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_page(response, 413, "Nội dung gửi quá lớn")
    api = anonymous.post(
        "/api/v1/reports",
        content=b"{" + b" " * (1024 * 1024 + 1) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(api, 413)
