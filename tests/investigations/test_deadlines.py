"""Deadline arithmetic (Law 84/2015, Art. 35), with the clock frozen at
2026-11-20 10:00 Vietnam time: every report below is received at that instant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import Org
from tests.investigations.support import (
    API,
    file_report,
    investigation_of,
    patch,
    serious_victims,
)

RECEIVED = "2026-11-20T10:00:00+07:00"


def test_fatal_accident_is_due_30_days_after_receipt(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation = investigation_of(client, inspectorate, file_report(client, enterprise))
    assert investigation["opened_at"] == RECEIVED
    assert investigation["due_at"] == "2026-12-20T10:00:00+07:00"


def test_two_seriously_injured_is_due_20_days_after_receipt(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    assert investigation_of(client, inspectorate, report)["due_at"] == "2026-12-10T10:00:00+07:00"


def test_technical_incident_without_victims_is_due_20_days_after_receipt(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, category="technical_incident", victims=[])
    investigation = investigation_of(client, inspectorate, report)
    assert investigation["severity"] == "none"
    assert investigation["due_at"] == "2026-12-10T10:00:00+07:00"


def test_deadline_runs_from_receipt_not_from_the_accident(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, occurred_at="2026-11-01T07:00:00+07:00")
    assert report["late"] is True
    assert investigation_of(client, inspectorate, report)["due_at"] == "2026-12-20T10:00:00+07:00"


def test_assessment_required_sets_a_60_day_period(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation = investigation_of(client, inspectorate, file_report(client, enterprise))
    response = patch(client, inspectorate, investigation["id"], {"assessment_required": True})
    assert response.status_code == 200, response.text
    assert response.json()["assessment_required"] is True
    assert response.json()["due_at"] == "2027-01-19T10:00:00+07:00"


def test_clearing_assessment_required_restores_the_base_period(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    investigation_id = report["investigation_id"]
    patch(client, inspectorate, investigation_id, {"assessment_required": True})
    response = patch(client, inspectorate, investigation_id, {"assessment_required": False})
    assert response.json()["due_at"] == "2026-12-10T10:00:00+07:00"


def test_extension_adds_the_base_period_again(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    response = client.post(
        f"{API}/investigations/{report['investigation_id']}/extension",
        json={"reason": "Chờ kết quả giám định pháp y"},
        headers=inspectorate.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["extended"] is True
    assert response.json()["due_at"] == "2027-01-19T10:00:00+07:00"


def test_extension_of_an_assessment_doubles_the_60_days(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json={"reason": "Gia hạn"},
        headers=inspectorate.headers,
    )
    response = patch(client, inspectorate, investigation_id, {"assessment_required": True})
    assert response.json()["due_at"] == "2027-03-20T10:00:00+07:00"  # 120 days


def test_not_overdue_exactly_at_the_deadline(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    frozen_clock.advance(timedelta(days=30))
    assert investigation_of(client, inspectorate, report)["overdue"] is False


def test_overdue_one_second_after_the_deadline(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    frozen_clock.advance(timedelta(days=30, seconds=1))
    assert investigation_of(client, inspectorate, report)["overdue"] is True


def test_in_progress_past_the_deadline_is_overdue(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    patch(client, inspectorate, report["investigation_id"], {"status": "in_progress"})
    frozen_clock.advance(timedelta(days=20, microseconds=1))
    assert investigation_of(client, inspectorate, report)["overdue"] is True


def test_concluded_investigation_is_never_overdue(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    investigation_id = report["investigation_id"]
    patch(client, inspectorate, investigation_id, {"status": "in_progress"})
    patch(client, inspectorate, investigation_id, {"status": "concluded", "conclusion": "Xong"})
    frozen_clock.advance(timedelta(days=365))
    assert investigation_of(client, inspectorate, report)["overdue"] is False


def test_extension_lifts_overdue(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    frozen_clock.advance(timedelta(days=31))
    response = client.post(
        f"{API}/investigations/{report['investigation_id']}/extension",
        json={"reason": "Gia hạn"},
        headers=inspectorate.headers,
    )
    assert response.json()["overdue"] is False
