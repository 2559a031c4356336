"""POST /api/v1/organisations/{id}/users and `tnld create-user`."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.cli import main
from app.db import session_factory
from app.people.models import User
from tests.helpers import Org
from tests.web.conftest import log_in


def create(client: TestClient, admin: Org, organisation_id: str, **body: str) -> object:
    payload = {"email": "mai@tnld.test", "full_name": "Nguyễn Thị Mai", "password": "x" * 12}
    return client.post(
        f"/api/v1/organisations/{organisation_id}/users",
        json={**payload, **body},
        headers=admin.headers,
    )


def test_an_admin_creates_a_person_who_can_log_in(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    response = create(client, admin, enterprise.id, password="mot-mat-khau-dai")
    assert response.status_code == 201  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"id", "email", "full_name", "organisation_id", "created_at"}
    assert body["organisation_id"] == enterprise.id
    assert "password" not in response.text  # type: ignore[attr-defined]
    with session_factory()() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert log_in(client, "mai@tnld.test", "mot-mat-khau-dai") == 303


def test_a_password_under_12_characters_is_422(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    response = create(client, admin, enterprise.id, password="x" * 11)
    assert response.status_code == 422  # type: ignore[attr-defined]
    pointers = [e["pointer"] for e in response.json()["errors"]]  # type: ignore[attr-defined]
    assert pointers == ["/password"]


def test_an_email_already_used_is_409(client: TestClient, admin: Org, enterprise: Org) -> None:
    assert create(client, admin, enterprise.id).status_code == 201  # type: ignore[attr-defined]
    again = create(client, admin, enterprise.id, email="MAI@tnld.test")
    assert again.status_code == 409  # type: ignore[attr-defined]


def test_only_admins_create_people(client: TestClient, enterprise: Org) -> None:
    response = client.post(
        f"/api/v1/organisations/{enterprise.id}/users",
        json={"email": "a@tnld.test", "full_name": "A", "password": "x" * 12},
        headers=enterprise.headers,
    )
    assert response.status_code == 403


def test_an_unknown_organisation_is_404(client: TestClient, admin: Org) -> None:
    assert create(client, admin, str(uuid.uuid4())).status_code == 404  # type: ignore[attr-defined]


def test_create_user_prints_a_generated_password_last(
    client: TestClient, enterprise: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["create-user", "--organisation", enterprise.id, "--email", "b@tnld.test", "--name", "B"])
    password = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(password) >= 12
    assert log_in(client, "b@tnld.test", password) == 303


def test_the_demo_creates_one_person_per_organisation_who_can_log_in(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.demo import DEMO_ORGANISATIONS, seed_demo

    seed_demo(base_url="http://127.0.0.1:8000")
    printed = capsys.readouterr().out.split("=== People", 1)[1]
    logins = [line.split()[:2] for line in printed.splitlines() if "@demo.tnld.test" in line]
    assert len(logins) == len(DEMO_ORGANISATIONS)
    for email, password in logins:
        assert log_in(client, email, password) == 303


def test_the_email_is_kept_as_given_and_compared_without_case(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    created = create(client, admin, enterprise.id, email="Mai.Nguyen@tnld.test")
    assert created.json()["email"] == "Mai.Nguyen@tnld.test"  # type: ignore[attr-defined]
    assert log_in(client, "mai.nguyen@TNLD.test", "x" * 12) == 303
