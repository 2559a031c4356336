"""RFC 9457 problem documents for every kind of error, and never a 500 for bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.errors import problem_types
from tests.assertions import assert_problem, row_counts
from tests.helpers import (
    API,
    Org,
    file_report,
    idem,
    lose_connection_while_locked,
    patch,
    report_body,
)


def test_401_is_a_problem(client: TestClient) -> None:
    doc = assert_problem(client.get("/api/v1/reports"), 401, type_suffix="unauthenticated")
    assert doc["title"]
    assert doc["detail"]


def test_403_is_a_problem(client: TestClient, police: Org) -> None:
    response = client.get("/api/v1/organisations", headers=police.headers)
    assert_problem(response, 403, type_suffix="forbidden")


@pytest.mark.parametrize(
    "path", ["/nope", "/api/v1/nope", "/api/v2/reports", "/api/v1/reports/x/y"]
)
def test_unknown_path_is_a_404_problem(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404, type_suffix="not-found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/organisations", {"GET", "POST"}),
        ("DELETE", "/api/v1/organisations", {"GET", "POST"}),
        ("PATCH", "/api/v1/divisions", {"GET"}),
        ("GET", "/api/v1/api-keys/00000000-0000-4000-8000-000000000000", {"DELETE"}),
        ("PUT", "/api/v1/reports", {"GET", "POST"}),
    ],
)
def test_405_is_a_problem_with_allow_listing_every_method(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    assert_problem(response, 405, type_suffix="method-not-allowed")
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


def test_405_on_a_report_lists_the_methods_of_every_route_on_the_path(
    client: TestClient,
) -> None:
    operations = client.get("/openapi.json").json()["paths"]["/api/v1/reports/{report_id}"]
    expected = {method.upper() for method in operations}
    response = client.request("PUT", "/api/v1/reports/00000000-0000-4000-8000-000000000000")
    assert_problem(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} == expected


def test_lone_surrogate_in_a_webhook_url_is_422(client: TestClient, admin: Org) -> None:
    body = {"name": "X", "kind": "inspectorate", "webhook_url": "https://x.test/\ud800"}
    response = client.post(
        "/api/v1/organisations",
        content=json.dumps(body).encode(),  # ASCII with a \ud800 escape: valid JSON text
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 422, pointer="/webhook_url")


def test_413_is_a_problem(client: TestClient, admin: Org) -> None:
    body = {"name": "x" * (1024 * 1024 + 1), "kind": "admin"}
    response = client.post("/api/v1/organisations", json=body, headers=admin.headers)
    assert_problem(response, 413, type_suffix="payload-too-large")


def test_413_comes_before_authentication(client: TestClient) -> None:
    response = client.post("/api/v1/reports", content=b"x" * (1024 * 1024 + 1))
    assert_problem(response, 413)


def test_415_is_a_problem(client: TestClient, admin: Org) -> None:
    response = client.post(
        "/api/v1/organisations",
        content=b"<organisation/>",
        headers={**admin.headers, "Content-Type": "application/xml"},
    )
    assert_problem(response, 415, type_suffix="unsupported-media-type")


def test_422_lists_errors_with_json_pointers(client: TestClient, admin: Org) -> None:
    response = client.post(
        "/api/v1/organisations", json={"kind": "enterprise", "extra": 1}, headers=admin.headers
    )
    doc = assert_problem(response, 422, type_suffix="validation-error")
    pointers = {e["pointer"] for e in doc["errors"]}
    assert {"/name", "/extra"} <= pointers
    assert all(e["detail"] for e in doc["errors"])


def test_query_error_names_the_parameter(client: TestClient, admin: Org) -> None:
    response = client.get("/api/v1/organisations?limit=0", headers=admin.headers)
    doc = assert_problem(response, 422)
    assert doc["errors"] == [{"parameter": "limit", "detail": doc["errors"][0]["detail"]}]


def test_400_for_a_missing_idempotency_key_is_a_problem(
    client: TestClient, enterprise: Org
) -> None:
    response = client.post("/api/v1/reports", json=report_body(), headers=enterprise.headers)
    doc = assert_problem(response, 400)
    assert doc["errors"][0]["header"] == "Idempotency-Key"


def test_pointer_escapes_slash_and_tilde(client: TestClient, enterprise: Org) -> None:
    response = client.post(
        "/api/v1/reports",
        json=report_body(**{"a/b~c": 1}),
        headers={**enterprise.headers, **idem()},
    )
    assert_problem(response, 422, pointer="/a~1b~0c")


HOSTILE_BODIES: dict[str, bytes] = {
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "huge integer": json.dumps(
        report_body(victims=[{**report_body()["victims"][0], "birth_year": 10**300}])
    ).encode(),
    "NaN": json.dumps(report_body()).replace('"birth_year": 1990', '"birth_year": NaN').encode(),
    "lone surrogate": json.dumps(report_body(summary="\ud800")).encode(),
    "invalid UTF-8": b'{"summary": "\xc3\x28"}',
    "surrogate in a name": json.dumps(report_body(reporter={"full_name": "\udfff"})).encode(),
    "surrogate in a code": json.dumps(report_body(district_code="\ud800")).encode(),
    "null byte": json.dumps(report_body(address="a\u0000b")).encode(),
    "victims as object": json.dumps(report_body(victims={"0": {}})).encode(),
    "reporter as list": json.dumps(report_body(reporter=[])).encode(),
    "number as key": b'{"1": 2}',
}


@pytest.mark.parametrize("raw", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_body_is_a_422_problem_and_writes_nothing(
    client: TestClient, enterprise: Org, raw: bytes
) -> None:
    before = row_counts()
    response = client.post(
        "/api/v1/reports",
        content=raw,
        headers={**enterprise.headers, **idem(), "Content-Type": "application/json"},
    )
    assert_problem(response, 422)
    assert row_counts() == before


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "9" * 400},
        {"cursor": "x" * 501},
        {"occurred_from": "9999-12-31T23:59:59.999999999-23:59"},
        {"district_code": "\x00"},
        {"district_code": "643\x00"},
        {"severity": ""},
    ],
)
def test_hostile_query_is_a_422_problem_naming_the_parameter(
    client: TestClient, inspectorate: Org, query: dict[str, Any]
) -> None:
    response = client.get("/api/v1/reports", params=query, headers=inspectorate.headers)
    doc = assert_problem(response, 422, type_suffix="validation-error")
    [name] = query
    assert [e.get("parameter") for e in doc["errors"]] == [name], doc


def test_every_problem_type_is_a_page_tnld_serves(client: TestClient) -> None:
    """A problem's ``type`` points to a page of tnld explaining it (RFC 9457 §3.1.1)."""
    for slug, problem in problem_types().items():
        page = client.get(f"/problems/{slug}")
        assert page.status_code == 200, slug
        assert page.headers["content-type"].startswith("text/html")
        assert problem.title in page.text
        assert str(problem.status) in page.text
    assert client.get("/problems/http-404").status_code == 200
    assert_problem(client.get("/problems/no-such-problem"), 404, type_suffix="not-found")


def test_a_problem_type_leads_to_its_page(client: TestClient) -> None:
    doc = assert_problem(client.get("/api/v1/reports"), 401, type_suffix="unauthenticated")
    assert doc["type"] == "/problems/unauthenticated"
    assert "Authorization: Bearer" in client.get(doc["type"]).text


@pytest.mark.postgres_only
def test_a_connection_lost_during_a_change_is_503_to_retry_and_changes_nothing(
    client: TestClient, enterprise: Org, inspectorate: Org, live_server: str
) -> None:
    """The database connection of a request dies while it works (its backend is terminated
    while the PATCH waits for the investigation's row): a 503 problem with Retry-After, which
    says the change may or may not be stored, never an unexpected 500; nothing changed, and
    the same request then goes through."""
    investigation_id = str(file_report(client, enterprise)["investigation_id"])
    responses: list[httpx.Response] = []

    def change() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            responses.append(
                http.patch(
                    f"{API}/investigations/{investigation_id}",
                    json={"status": "in_progress"},
                    headers=inspectorate.headers,
                )
            )

    lose_connection_while_locked(
        "SELECT id FROM investigations WHERE id = :id FOR UPDATE",
        {"id": investigation_id},
        change,
        what="the change",
    )

    (response,) = responses
    doc = assert_problem(response, 503, type_suffix="database-unavailable")
    assert response.headers["Retry-After"] == "1"
    assert "may or may not" in doc["detail"]
    current = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert current.json()["status"] == "open"
    again = patch(client, inspectorate, investigation_id, {"status": "in_progress"})
    assert again.status_code == 200, again.text
