"""Bearer API keys: refused keys, revocation, last use, and keys stored only as hashes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from app.auth.models import ApiKey
from app.db import get_engine, session_factory
from app.models import Base
from tests.assertions import assert_problem
from tests.helpers import Org, OrgFactory, idem, report_body

SOME_ID = "00000000-0000-4000-8000-000000000000"
ENDPOINTS = [
    ("POST", "/api/v1/organisations"),
    ("GET", "/api/v1/organisations"),
    ("GET", f"/api/v1/organisations/{SOME_ID}"),
    ("POST", f"/api/v1/organisations/{SOME_ID}/api-keys"),
    ("GET", f"/api/v1/organisations/{SOME_ID}/api-keys"),
    ("DELETE", f"/api/v1/api-keys/{SOME_ID}"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports"),
    ("GET", f"/api/v1/reports/{SOME_ID}"),
]


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body = report_body() if path.endswith("/reports") else {}
    if method == "POST":
        return client.request(method, path, json=body, headers={**headers, **idem()})
    return client.request(method, path, headers=headers)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_missing_key_is_401_with_www_authenticate(
    client: TestClient, method: str, path: str
) -> None:
    response = _call(client, method, path, {})
    assert_problem(response, 401, type_suffix="unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer tnld_" + "x" * 43,
        "Bearer ",
        "Bearer " + "tnld_" + "a" * 500,
        "Basic dXNlcjpwYXNz",
        "tnld_abc",
        "Token tnld_abc",
    ],
)
def test_invalid_key_is_401_with_www_authenticate(
    client: TestClient, enterprise: Org, authorization: str
) -> None:
    response = client.get("/api/v1/reports", headers={"Authorization": authorization})
    assert_problem(response, 401, type_suffix="unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_key_of_one_org_with_a_changed_character_is_401(
    client: TestClient, enterprise: Org
) -> None:
    tampered = enterprise.key[:-1] + ("A" if enterprise.key[-1] != "A" else "B")
    response = client.get("/api/v1/reports", headers={"Authorization": f"Bearer {tampered}"})
    assert_problem(response, 401)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_revoked_key_is_401_on_every_endpoint(
    client: TestClient, orgs: OrgFactory, method: str, path: str
) -> None:
    # The key is checked before the role: a revoked key is 401 even where its role is 403.
    org = orgs.create("enterprise", tax_code="6000123456")
    revoke = client.delete(f"/api/v1/api-keys/{_key_id(org)}", headers=orgs.admin.headers)
    assert revoke.status_code == 204
    response = _call(client, method, path, org.headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _key_id(org: Org) -> str:
    from app.auth.service import hash_api_key

    with session_factory()() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(org.key)))
        assert key is not None
        return str(key.id)


def test_key_works_until_revoked_and_stops_at_once(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    assert client.get("/api/v1/reports", headers=enterprise.headers).status_code == 200
    revoke = client.delete(f"/api/v1/api-keys/{_key_id(enterprise)}", headers=admin.headers)
    assert revoke.status_code == 204
    assert revoke.content == b""
    assert client.get("/api/v1/reports", headers=enterprise.headers).status_code == 401


def test_revoking_one_key_leaves_the_others_working(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    second = client.post(
        f"/api/v1/organisations/{enterprise.id}/api-keys",
        json={"label": "dự phòng"},
        headers=admin.headers,
    ).json()["key"]
    client.delete(f"/api/v1/api-keys/{_key_id(enterprise)}", headers=admin.headers)
    response = client.get("/api/v1/reports", headers={"Authorization": f"Bearer {second}"})
    assert response.status_code == 200


def test_revoking_a_revoked_key_is_204(client: TestClient, admin: Org, enterprise: Org) -> None:
    key_id = _key_id(enterprise)
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=admin.headers).status_code == 204
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=admin.headers).status_code == 204


def test_revoking_an_unknown_key_is_404(client: TestClient, admin: Org) -> None:
    response = client.delete(f"/api/v1/api-keys/{uuid.uuid4()}", headers=admin.headers)
    assert_problem(response, 404)


def test_admin_may_revoke_its_own_key(client: TestClient, admin: Org) -> None:
    assert (
        client.delete(f"/api/v1/api-keys/{_key_id(admin)}", headers=admin.headers).status_code
        == 204
    )
    assert client.get("/api/v1/organisations", headers=admin.headers).status_code == 401


def _keys(client: TestClient, admin: Org, org: Org) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/organisations/{org.id}/api-keys", headers=admin.headers)
    assert response.status_code == 200
    keys: list[dict[str, Any]] = response.json()
    return keys


def test_last_used_at_is_empty_until_the_key_is_used(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    assert _keys(client, admin, enterprise)[0]["last_used_at"] is None


def test_last_used_at_is_set_when_the_key_is_used(
    client: TestClient, orgs: OrgFactory, frozen_clock: Any
) -> None:
    enterprise = orgs.create("enterprise", tax_code="6000123456")
    frozen_clock.advance(timedelta(hours=1))
    client.get("/api/v1/reports", headers=enterprise.headers)
    assert _keys(client, orgs.admin, enterprise)[0]["last_used_at"] == "2026-11-20T11:00:00+07:00"


def test_last_used_at_moves_on_with_later_use(
    client: TestClient, orgs: OrgFactory, frozen_clock: Any
) -> None:
    enterprise = orgs.create("enterprise", tax_code="6000123456")
    client.get("/api/v1/reports", headers=enterprise.headers)
    frozen_clock.advance(timedelta(days=2))
    client.get("/api/v1/reports", headers=enterprise.headers)
    assert _keys(client, orgs.admin, enterprise)[0]["last_used_at"] == "2026-11-22T10:00:00+07:00"


def test_key_is_prefixed_and_random(client: TestClient, orgs: OrgFactory) -> None:
    a = orgs.create("enterprise", tax_code="6000123456")
    b = orgs.create("enterprise", tax_code="6000123457")
    assert a.key.startswith("tnld_")
    assert b.key.startswith("tnld_")
    assert a.key != b.key
    assert len(a.key) >= 40


def test_key_is_shown_only_at_creation(client: TestClient, admin: Org, enterprise: Org) -> None:
    listed = _keys(client, admin, enterprise)
    assert "key" not in listed[0]
    assert (
        enterprise.key
        not in client.get(f"/api/v1/organisations/{enterprise.id}", headers=admin.headers).text
    )


def test_database_holds_no_raw_key(client: TestClient, admin: Org, enterprise: Org) -> None:
    # Use the keys, so that every table the service writes on the way has had its chance.
    client.get("/api/v1/reports", headers=enterprise.headers)
    client.get("/api/v1/organisations", headers=admin.headers)
    secret_parts = {enterprise.key, enterprise.key[5:], admin.key, admin.key[5:]}
    engine = get_engine()
    table_names = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name not in table_names:
                continue
            for row in connection.execute(text(f"SELECT * FROM {table.name}")):
                dumped = " ".join(str(value) for value in row)
                for secret in secret_parts:
                    assert secret not in dumped, f"raw key found in {table.name}"


def test_key_creation_response_shape(client: TestClient, admin: Org, enterprise: Org) -> None:
    response = client.post(
        f"/api/v1/organisations/{enterprise.id}/api-keys",
        json={"label": "Máy chủ kế toán"},
        headers=admin.headers,
    )
    assert response.status_code == 201
    assert set(response.json()) == {"id", "key", "label", "created_at"}
    assert response.json()["label"] == "Máy chủ kế toán"
    assert response.json()["created_at"].endswith("+07:00")


def test_key_may_be_created_without_a_body(client: TestClient, admin: Org, enterprise: Org) -> None:
    response = client.post(f"/api/v1/organisations/{enterprise.id}/api-keys", headers=admin.headers)
    assert response.status_code == 201, response.text
    assert response.json()["label"] is None


def test_key_for_an_unknown_organisation_is_404(client: TestClient, admin: Org) -> None:
    response = client.post(
        f"/api/v1/organisations/{uuid.uuid4()}/api-keys", json={}, headers=admin.headers
    )
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"label": "x" * 201}, "/label"),
        ({"label": ""}, "/label"),
        ({"label": "a\x00b"}, "/label"),
        ({"label": 7}, "/label"),
        ({"scope": "all"}, "/scope"),
    ],
)
def test_invalid_key_request_is_422(
    client: TestClient, admin: Org, enterprise: Org, body: dict[str, Any], pointer: str
) -> None:
    response = client.post(
        f"/api/v1/organisations/{enterprise.id}/api-keys", json=body, headers=admin.headers
    )
    assert_problem(response, 422, pointer=pointer)
