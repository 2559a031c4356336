"""Who may see and change investigations: inspectorate all, police its area, others 403;
a foreign investigation is 404."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, Org, OrgFactory, file_report, patch


@pytest.fixture
def two_districts(client: TestClient, enterprise: Org) -> dict[str, dict[str, Any]]:
    return {
        "643": file_report(client, enterprise),
        "650": file_report(client, enterprise, commune_code="24343"),
    }


def test_inspectorate_lists_every_commune(
    client: TestClient, inspectorate: Org, two_districts: dict[str, Any]
) -> None:
    page = client.get(f"{API}/investigations", headers=inspectorate.headers).json()
    assert {item["commune_code"] for item in page["items"]} == {"24121", "24343"}


def test_commune_police_lists_only_its_commune(
    client: TestClient, police: Org, two_districts: dict[str, Any]
) -> None:
    page = client.get(f"{API}/investigations", headers=police.headers).json()
    assert [item["commune_code"] for item in page["items"]] == ["24121"]


def test_police_filtering_another_district_gets_nothing(
    client: TestClient, police: Org, two_districts: dict[str, Any]
) -> None:
    page = client.get(f"{API}/investigations?commune_code=24343", headers=police.headers).json()
    assert page["items"] == []


def test_police_reads_an_investigation_of_its_district(
    client: TestClient, police: Org, two_districts: dict[str, Any]
) -> None:
    investigation_id = two_districts["643"]["investigation_id"]
    response = client.get(f"{API}/investigations/{investigation_id}", headers=police.headers)
    assert response.status_code == 200


def test_police_gets_404_for_another_district(
    client: TestClient, police: Org, two_districts: dict[str, Any]
) -> None:
    investigation_id = two_districts["650"]["investigation_id"]
    response = client.get(f"{API}/investigations/{investigation_id}", headers=police.headers)
    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.parametrize("kind", ["enterprise", "commune_committee", "admin"])
def test_other_roles_may_not_list_or_read(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    two_districts: dict[str, Any],
    kind: str,
) -> None:
    org = {
        "enterprise": enterprise,
        "commune_committee": orgs.create("commune_committee", commune_code="24121"),
        "admin": orgs.admin,
    }[kind]
    investigation_id = two_districts["643"]["investigation_id"]
    assert client.get(f"{API}/investigations", headers=org.headers).status_code == 403
    single = client.get(f"{API}/investigations/{investigation_id}", headers=org.headers)
    assert single.status_code == 403


def test_police_may_not_patch(
    client: TestClient, police: Org, two_districts: dict[str, Any]
) -> None:
    investigation_id = two_districts["643"]["investigation_id"]
    response = patch(client, police, investigation_id, {"status": "in_progress"})
    assert response.status_code == 403


def test_police_may_not_extend(
    client: TestClient, police: Org, two_districts: dict[str, Any]
) -> None:
    investigation_id = two_districts["643"]["investigation_id"]
    response = client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json={"reason": "Gia hạn", "approved_by": "Giám đốc Sở Nội vụ"},
        headers=police.headers,
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/{id}"), ("PATCH", "/{id}"), ("POST", "/{id}/extension")],
)
def test_without_a_key_is_401(
    client: TestClient, two_districts: dict[str, Any], method: str, suffix: str
) -> None:
    path = f"{API}/investigations" + suffix.format(id=two_districts["643"]["investigation_id"])
    response = client.request(method, path, json={"reason": "x"} if method == "POST" else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
