"""POST /investigations/{id}/extension: one extension of the base period."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import Org
from tests.investigations.support import API, file_report, move


def _extend(client: TestClient, org: Org, investigation_id: str, body: Any = None) -> Any:
    return client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json=body if body is not None else {"reason": "Chờ kết quả giám định kỹ thuật"},
        headers=org.headers,
    )


def test_second_extension_is_409(client: TestClient, enterprise: Org, inspectorate: Org) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    first = _extend(client, inspectorate, investigation_id)
    second = _extend(client, inspectorate, investigation_id)
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["status"] == 409
    current = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert current.json()["due_at"] == first.json()["due_at"]


@pytest.mark.parametrize("status", ["concluded", "closed"])
def test_finished_investigation_cannot_be_extended(
    client: TestClient, enterprise: Org, inspectorate: Org, status: str
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    steps = ["in_progress", "concluded", "closed"]
    move(client, inspectorate, investigation_id, *steps[: steps.index(status) + 1])
    assert _extend(client, inspectorate, investigation_id).status_code == 409


def test_in_progress_investigation_can_be_extended(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    move(client, inspectorate, investigation_id, "in_progress")
    assert _extend(client, inspectorate, investigation_id).status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "  "}, {"reason": 5}, {"reason": "x", "days": 10}]
)
def test_extension_needs_a_reason(
    client: TestClient, enterprise: Org, inspectorate: Org, body: dict[str, Any]
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    response = _extend(client, inspectorate, investigation_id, body)
    assert response.status_code == 422
    current = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert current.json()["extended"] is False


def test_extension_response_carries_the_new_etag(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    before = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    response = _extend(client, inspectorate, investigation_id)
    assert response.headers["ETag"] != before.headers["ETag"]
