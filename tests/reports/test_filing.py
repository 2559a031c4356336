"""Filing a report: the happy paths of POST /api/v1/reports."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import Org, post_report, report_body, victim


def test_enterprise_files_fatal_accident(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    # The reference carries the year of received_at: the clock is frozen in 2026 so that the
    # test does not depend on today's date.
    response = post_report(client, enterprise)

    assert response.status_code == 201, response.text
    report = response.json()
    assert response.headers["Location"] == f"/api/v1/reports/{report['id']}"
    assert report["reference"].startswith("TNLD-2026-")
    assert report["severity"] == "fatal"
    assert (report["dead_count"], report["seriously_injured_count"]) == (1, 0)
    assert report["submitted_by"] == {
        "id": enterprise.id,
        "name": enterprise.name,
        "kind": "enterprise",
    }
    assert report["investigation_id"] is not None


def test_two_seriously_injured_is_serious(client: TestClient, enterprise: Org) -> None:
    body = report_body(
        victims=[victim(outcome="seriously_injured"), victim(outcome="seriously_injured")]
    )
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["severity"] == "serious"
    assert response.json()["seriously_injured_count"] == 2


def test_report_can_be_read_back(client: TestClient, enterprise: Org) -> None:
    created = post_report(client, enterprise).json()
    response = client.get(f"/api/v1/reports/{created['id']}", headers=enterprise.headers)
    assert response.status_code == 200
    assert response.json() == created
