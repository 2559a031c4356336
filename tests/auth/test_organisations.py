"""Organisations (admin): what each kind must have, webhook secrets, reading; and /divisions."""

from __future__ import annotations

import base64
import unicodedata
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_problem, row_counts
from tests.helpers import Org


def _create(client: TestClient, admin: Org, **body: Any) -> Any:
    return client.post(
        "/api/v1/organisations", json={"name": "Tổ chức", **body}, headers=admin.headers
    )


VALID: dict[str, dict[str, Any]] = {
    "enterprise": {"kind": "enterprise", "tax_code": "6000123456"},
    "enterprise branch": {"kind": "enterprise", "tax_code": "6000123456-001"},
    "commune_committee": {"kind": "commune_committee", "commune_code": "24121"},
    "commune committee of former Phú Yên": {"kind": "commune_committee", "commune_code": "22015"},
    "legacy district_committee": {"kind": "district_committee", "district_code": "650"},
    "legacy district committee of Phú Yên": {"kind": "district_committee", "district_code": "555"},
    "commune police by e-mail": {
        "kind": "police",
        "commune_code": "24121",
        "notify_emails": ["ca@tnld.test"],
    },
    "commune police by webhook": {
        "kind": "police",
        "commune_code": "24121",
        "webhook_url": "https://ca24121.tnld.test/hook",
    },
    "provincial police": {
        "kind": "police",
        "province_code": "66",
        "notify_emails": ["ca.tinh@tnld.test"],
    },
    "legacy district police": {
        "kind": "police",
        "district_code": "643",
        "notify_emails": ["ca643@tnld.test"],
    },
    "inspectorate": {"kind": "inspectorate", "notify_emails": ["a@tnld.test", "b@tnld.test"]},
    "admin": {"kind": "admin"},
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_valid_organisation_is_created(
    client: TestClient, admin: Org, body: dict[str, Any]
) -> None:
    response = _create(client, admin, **body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/api/v1/organisations/{created['id']}"
    uuid.UUID(created["id"])
    for field, value in body.items():
        assert created[field] == value
    assert created["created_at"].endswith("+07:00")


INVALID = {
    "enterprise without tax code": ({"kind": "enterprise"}, "/tax_code"),
    "tax code of 9 digits": ({"kind": "enterprise", "tax_code": "600012345"}, "/tax_code"),
    "tax code of 11 digits": ({"kind": "enterprise", "tax_code": "60001234567"}, "/tax_code"),
    "tax code branch of 2 digits": (
        {"kind": "enterprise", "tax_code": "6000123456-01"},
        "/tax_code",
    ),
    "tax code with letters": ({"kind": "enterprise", "tax_code": "600012345A"}, "/tax_code"),
    "district committee without district": ({"kind": "district_committee"}, "/district_code"),
    "committee in unknown district": (
        {"kind": "district_committee", "district_code": "999"},
        "/district_code",
    ),
    "district committee given a 2025 commune": (
        {"kind": "district_committee", "commune_code": "24121"},
        "/commune_code",
    ),
    "commune committee without commune": ({"kind": "commune_committee"}, "/commune_code"),
    "commune committee in a retired commune": (
        {"kind": "commune_committee", "commune_code": "24118"},
        "/commune_code",
    ),
    "commune committee given a district": (
        {"kind": "commune_committee", "commune_code": "24121", "district_code": "643"},
        "/district_code",
    ),
    "police without area": (
        {"kind": "police", "notify_emails": ["ca@tnld.test"]},
        "/commune_code",
    ),
    "police with two areas": (
        {
            "kind": "police",
            "commune_code": "24121",
            "province_code": "66",
            "notify_emails": ["ca@tnld.test"],
        },
        "/province_code",
    ),
    "police of a province not in today's map": (
        {"kind": "police", "province_code": "54", "notify_emails": ["ca@tnld.test"]},
        "/province_code",
    ),
    "police of a district given as a commune": (
        {"kind": "police", "commune_code": "643", "notify_emails": ["ca@tnld.test"]},
        "/commune_code",
    ),
    "enterprise with an area": (
        {"kind": "enterprise", "tax_code": "6000123456", "commune_code": "24121"},
        "/commune_code",
    ),
    "police without channel": ({"kind": "police", "commune_code": "24121"}, None),
    "police with empty e-mail list": (
        {"kind": "police", "commune_code": "24121", "notify_emails": []},
        None,
    ),
    "inspectorate without channel": ({"kind": "inspectorate"}, None),
    "malformed e-mail": (
        {"kind": "inspectorate", "notify_emails": ["not-an-address"]},
        "/notify_emails/0",
    ),
    "webhook that is not http": (
        {"kind": "inspectorate", "webhook_url": "ftp://tnld.test/hook"},
        "/webhook_url",
    ),
    "webhook that is not a URL": (
        {"kind": "inspectorate", "webhook_url": "hook"},
        "/webhook_url",
    ),
    "unknown kind": ({"kind": "ministry"}, "/kind"),
    "unknown field": ({"kind": "admin", "role": "root"}, "/role"),
    "empty name": ({"kind": "admin", "name": "  "}, "/name"),
    "name too long": ({"kind": "admin", "name": "x" * 201}, "/name"),
    "control character in name": ({"kind": "admin", "name": "A\x1bB"}, "/name"),
}


@pytest.mark.parametrize(("body", "pointer"), INVALID.values(), ids=INVALID.keys())
def test_invalid_organisation_is_422(
    client: TestClient, admin: Org, body: dict[str, Any], pointer: str | None
) -> None:
    before = row_counts()
    response = _create(client, admin, **body)
    doc = assert_problem(response, 422, type_suffix="validation-error", pointer=pointer)
    assert doc.get("errors")
    assert row_counts() == before


def test_missing_kind_is_422(client: TestClient, admin: Org) -> None:
    response = client.post("/api/v1/organisations", json={"name": "X"}, headers=admin.headers)
    assert_problem(response, 422, pointer="/kind")


def test_webhook_secret_is_returned_when_a_webhook_is_set(client: TestClient, admin: Org) -> None:
    response = _create(client, admin, kind="inspectorate", webhook_url="https://tt.tnld.test/hook")
    secret = response.json()["webhook_secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_webhook_secrets_differ(client: TestClient, admin: Org) -> None:
    body = {"kind": "inspectorate", "webhook_url": "https://tt.tnld.test/hook"}
    first = _create(client, admin, **body).json()["webhook_secret"]
    second = _create(client, admin, **body).json()["webhook_secret"]
    assert first != second


def test_no_webhook_secret_without_a_webhook(client: TestClient, admin: Org) -> None:
    response = _create(client, admin, kind="inspectorate", notify_emails=["tt@tnld.test"])
    assert response.json().get("webhook_secret") is None


def test_webhook_secret_is_never_shown_again(client: TestClient, admin: Org) -> None:
    created = _create(
        client, admin, kind="inspectorate", webhook_url="https://tt.tnld.test/hook"
    ).json()
    single = client.get(f"/api/v1/organisations/{created['id']}", headers=admin.headers)
    listed = client.get("/api/v1/organisations", headers=admin.headers)
    assert "webhook_secret" not in single.json()
    assert all("webhook_secret" not in item for item in listed.json()["items"])
    assert created["webhook_secret"] not in single.text + listed.text


def test_duplicate_notify_emails_are_kept_once(client: TestClient, admin: Org) -> None:
    response = _create(
        client, admin, kind="inspectorate", notify_emails=["a@tnld.test", "a@tnld.test"]
    )
    assert response.json()["notify_emails"] == ["a@tnld.test"]


def test_organisation_name_is_nfc_and_trimmed(client: TestClient, admin: Org) -> None:
    name = unicodedata.normalize("NFD", "  Công an Thành phố Buôn Ma Thuột ")
    response = _create(client, admin, kind="admin", name=name)
    assert response.json()["name"] == "Công an Thành phố Buôn Ma Thuột"


def test_organisation_is_read_back(client: TestClient, admin: Org) -> None:
    created = _create(client, admin, **VALID["commune police by e-mail"]).json()
    response = client.get(f"/api/v1/organisations/{created['id']}", headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == {k: v for k, v in created.items() if k != "webhook_secret"}


def test_unknown_organisation_is_404(client: TestClient, admin: Org) -> None:
    response = client.get(f"/api/v1/organisations/{uuid.uuid4()}", headers=admin.headers)
    assert_problem(response, 404)


def test_organisations_are_listed_in_pages(client: TestClient, admin: Org) -> None:
    created = {_create(client, admin, kind="admin").json()["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/organisations", params=params, headers=admin.headers)
        assert page.status_code == 200
        seen += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert created | {admin.id} == set(seen)


@pytest.mark.parametrize("limit", ["0", "201"])
def test_organisation_list_limit_outside_1_to_200_is_422(
    client: TestClient, admin: Org, limit: str
) -> None:
    response = client.get("/api/v1/organisations", params={"limit": limit}, headers=admin.headers)
    assert_problem(response, 422)


# -- divisions ---------------------------------------------------------------------------------


def test_divisions_need_no_key(client: TestClient) -> None:
    assert client.get("/api/v1/divisions").status_code == 200
