"""Builders for the investigation, audit and statistics tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import Org, post_report, report_body, victim

API = "/api/v1"


def file_report(client: TestClient, org: Org, **overrides: Any) -> dict[str, Any]:
    """File a report (fatal, 2026, commune 24121, unless overridden); returns it as created."""
    response = post_report(client, org, report_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def serious_victims(count: int = 2) -> list[dict[str, Any]]:
    return [
        victim(full_name=f"Nạn nhân {i}", national_id=None, outcome="seriously_injured")
        for i in range(count)
    ]


def investigation_of(client: TestClient, reader: Org, report: dict[str, Any]) -> dict[str, Any]:
    response = client.get(
        f"{API}/investigations/{report['investigation_id']}", headers=reader.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def patch(
    client: TestClient, org: Org, investigation_id: str, body: dict[str, Any], **headers: str
) -> Any:
    return client.patch(
        f"{API}/investigations/{investigation_id}", json=body, headers={**org.headers, **headers}
    )


def move(client: TestClient, org: Org, investigation_id: str, *statuses: str) -> Any:
    """Walk an investigation through statuses (concluding with a conclusion)."""
    response = None
    for status in statuses:
        body: dict[str, Any] = {"status": status}
        if status == "concluded":
            body["conclusion"] = "Nguyên nhân: giàn giáo không được neo giữ."
        response = patch(client, org, investigation_id, body)
        assert response.status_code == 200, response.text
    return response
