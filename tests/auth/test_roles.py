"""Each role against each endpoint of issue 2: allowed, or 403 (contract, Organisations and
roles). Objects are chosen inside the caller's scope, so a refusal can only be the role's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_problem
from tests.helpers import Org, OrgFactory, idem, post_report, report_body, victim

ROLES = ["admin", "enterprise", "commune_committee", "police", "inspectorate"]


@dataclass
class Cast:
    orgs: dict[str, Org]
    report_id: str
    spare_org_id: str
    spare_key_id: str


@pytest.fixture
def cast(client: TestClient, orgs: OrgFactory) -> Cast:
    members = {
        "admin": orgs.admin,
        "enterprise": orgs.create("enterprise", tax_code="6000123456"),
        "commune_committee": orgs.create("commune_committee", commune_code="24280"),
        "police": orgs.create("police", commune_code="24280", notify_emails=["ca@tnld.test"]),
        "inspectorate": orgs.create("inspectorate", notify_emails=["tt@tnld.test"]),
    }
    # In district 648 and filed by the enterprise: inside every reader's scope.
    report = post_report(client, members["enterprise"], report_body(commune_code="24280"))
    assert report.status_code == 201
    spare = orgs.create("enterprise", tax_code="6000999999")
    key = client.post(
        f"/api/v1/organisations/{spare.id}/api-keys", json={}, headers=orgs.admin.headers
    )
    return Cast(members, report.json()["id"], spare.id, key.json()["id"])


Call = Callable[[TestClient, Cast, Org], Any]


def _new_organisation(client: TestClient, cast: Cast, org: Org) -> Any:
    body = {"name": "Công ty mới", "kind": "enterprise", "tax_code": "6000111111"}
    return client.post("/api/v1/organisations", json=body, headers=org.headers)


def _report_for(org: Org) -> dict[str, Any]:
    if org.kind == "commune_committee":
        return report_body(commune_code="24280", victims=[victim(employment="no_labour_contract")])
    return report_body(commune_code="24280")


ENDPOINTS: dict[str, tuple[Call, set[str], int]] = {
    "POST /organisations": (_new_organisation, {"admin"}, 201),
    "GET /organisations": (
        lambda c, s, o: c.get("/api/v1/organisations", headers=o.headers),
        {"admin"},
        200,
    ),
    "GET /organisations/{id}": (
        lambda c, s, o: c.get(f"/api/v1/organisations/{s.spare_org_id}", headers=o.headers),
        {"admin"},
        200,
    ),
    "POST /organisations/{id}/api-keys": (
        lambda c, s, o: c.post(
            f"/api/v1/organisations/{s.spare_org_id}/api-keys", json={}, headers=o.headers
        ),
        {"admin"},
        201,
    ),
    "GET /organisations/{id}/api-keys": (
        lambda c, s, o: c.get(
            f"/api/v1/organisations/{s.spare_org_id}/api-keys", headers=o.headers
        ),
        {"admin"},
        200,
    ),
    "DELETE /api-keys/{id}": (
        lambda c, s, o: c.delete(f"/api/v1/api-keys/{s.spare_key_id}", headers=o.headers),
        {"admin"},
        204,
    ),
    "POST /reports": (
        lambda c, s, o: c.post(
            "/api/v1/reports", json=_report_for(o), headers={**o.headers, **idem()}
        ),
        {"enterprise", "commune_committee"},
        201,
    ),
    "GET /reports": (
        lambda c, s, o: c.get("/api/v1/reports", headers=o.headers),
        {"enterprise", "commune_committee", "police", "inspectorate"},
        200,
    ),
    "GET /reports/{id}": (
        lambda c, s, o: c.get(f"/api/v1/reports/{s.report_id}", headers=o.headers),
        {"enterprise", "commune_committee", "police", "inspectorate"},
        200,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS.keys())
def test_role_may_use_endpoint_or_gets_403(
    client: TestClient, cast: Cast, role: str, endpoint: str
) -> None:
    call, allowed, success = ENDPOINTS[endpoint]
    response = call(client, cast, cast.orgs[role])
    if role in allowed:
        assert response.status_code == success, response.text
    else:
        assert_problem(response, 403, type_suffix="forbidden")


@pytest.mark.parametrize("role", ["police", "inspectorate", "admin"])
def test_refused_report_post_writes_nothing(client: TestClient, cast: Cast, role: str) -> None:
    before = client.get("/api/v1/reports", headers=cast.orgs["inspectorate"].headers).json()
    post_report(client, cast.orgs[role], report_body(commune_code="24280"))
    after = client.get("/api/v1/reports", headers=cast.orgs["inspectorate"].headers).json()
    assert after == before


def test_role_is_checked_before_the_body(client: TestClient, cast: Cast) -> None:
    response = client.post(
        "/api/v1/reports",
        json={"nonsense": True},
        headers={**cast.orgs["police"].headers, **idem()},
    )
    assert_problem(response, 403)
