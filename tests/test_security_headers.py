"""Headers on every response; /docs served with its own assets, off in production unless
TNLD_DOCS=true (Security and privacy: headers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import create_app
from tests.helpers import Org


@pytest.mark.parametrize("path", ["/api/v1/organisations", "/api/v1/nothing-here", "/healthz"])
def test_every_response_carries_the_security_headers(
    client: TestClient, admin: Org, path: str
) -> None:
    response = client.get(path, headers=admin.headers)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "server" not in response.headers
    if path.startswith("/api/"):
        assert response.headers["Cache-Control"] == "no-store"


def test_refusals_carry_them_too(client: TestClient) -> None:
    response = client.get("/api/v1/organisations")
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_docs_load_their_assets_from_tnld(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(("docs", "served"), [(None, False), ("true", True), ("false", False)])
def test_docs_in_production_only_when_asked(
    environment: pytest.MonkeyPatch, docs: str | None, served: bool
) -> None:
    environment.setenv("TNLD_ENV", "production")
    environment.setenv("TNLD_PASSWORD_HASHING", "standard")
    if docs is not None:
        environment.setenv("TNLD_DOCS", docs)
    get_settings.cache_clear()
    with TestClient(create_app()) as production:
        assert (production.get("/docs").status_code == 200) is served
        assert production.get("/openapi.json").status_code == 200
