"""POST /investigations/{id}/extension: one extension of the base period."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, Org, file_report, investigation_of, move, patch, victim

REASON = "Chờ kết quả giám định kỹ thuật"
APPROVER = "Giám đốc Sở Nội vụ"


def _extend(client: TestClient, org: Org, investigation_id: str, body: Any = None) -> Any:
    return client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json=body if body is not None else {"reason": REASON, "approved_by": APPROVER},
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
    "body",
    [
        {"approved_by": APPROVER},
        {"reason": "", "approved_by": APPROVER},
        {"reason": "  ", "approved_by": APPROVER},
        {"reason": 5, "approved_by": APPROVER},
    ],
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


@pytest.mark.parametrize("approved_by", [None, "", "  ", 5])
def test_extension_needs_an_approver(
    client: TestClient, enterprise: Org, inspectorate: Org, approved_by: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    body = (
        {"reason": REASON}
        if approved_by is None
        else {"reason": REASON, "approved_by": approved_by}
    )
    response = _extend(client, inspectorate, investigation_id, body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/approved_by"]


def test_extension_defaults_to_the_base_period_and_records_the_approver(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    before = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert before.json()["extension_days"] is None
    assert before.json()["approved_by"] is None
    response = _extend(client, inspectorate, investigation_id)
    assert response.status_code == 200, response.text
    extended = response.json()
    assert extended["extended"] is True
    assert extended["extension_days"] == 30
    assert extended["approved_by"] == APPROVER
    # Received Friday 2026-11-20: day 60 is Tuesday 19 January 2027.
    assert extended["due_at"] == "2027-01-20T00:00:00+07:00"


def test_extension_of_fewer_days(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    body = {"reason": REASON, "approved_by": APPROVER, "days": 10}
    response = _extend(client, inspectorate, investigation_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["extension_days"] == 10
    # Day 40 is Wednesday 30 December 2026.
    assert response.json()["due_at"] == "2026-12-31T00:00:00+07:00"


@pytest.mark.parametrize("days", [0, -1, 31, 1000])
def test_extension_days_outside_1_to_the_base_period_is_422_at_days(
    client: TestClient, enterprise: Org, inspectorate: Org, days: int
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    body = {"reason": REASON, "approved_by": APPROVER, "days": days}
    response = _extend(client, inspectorate, investigation_id, body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/days"]
    assert (
        investigation_of(client, inspectorate, {"investigation_id": investigation_id})["extended"]
        is False
    )


@pytest.mark.parametrize("days", [None, "7", 1.5, True])
def test_extension_days_must_be_an_integer(
    client: TestClient, enterprise: Org, inspectorate: Org, days: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    body = {"reason": REASON, "approved_by": APPROVER, "days": days}
    response = _extend(client, inspectorate, investigation_id, body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/days"]


def test_one_seriously_injured_may_be_extended_by_at_most_7_days(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(
        client,
        enterprise,
        category="technical_incident",
        victims=[victim(national_id=None, outcome="seriously_injured")],
    )
    too_long = {"reason": REASON, "approved_by": APPROVER, "days": 8}
    assert _extend(client, inspectorate, report["investigation_id"], too_long).status_code == 422
    response = _extend(client, inspectorate, report["investigation_id"])
    assert response.json()["extension_days"] == 7
    # Received Friday 2026-11-20: day 14 is Friday 4 December.
    assert response.json()["due_at"] == "2026-12-05T00:00:00+07:00"


def test_investigation_without_a_statutory_period_cannot_be_extended(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    report = file_report(client, enterprise, category="technical_incident", victims=[])
    response = _extend(client, inspectorate, report["investigation_id"])
    assert response.status_code == 409
    assert "35.6" in response.json()["detail"]


def test_assessment_after_an_extension_keeps_the_extensions_days(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    body = {"reason": REASON, "approved_by": APPROVER, "days": 10}
    _extend(client, inspectorate, investigation_id, body)
    response = patch(client, inspectorate, investigation_id, {"assessment_required": True})
    assert response.json()["extension_days"] == 10
    # 60 + 10 days: day 70 is Friday 29 January 2027.
    assert response.json()["due_at"] == "2027-01-30T00:00:00+07:00"


def test_full_extension_then_assessment_is_not_doubled(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    _extend(client, inspectorate, investigation_id)
    response = patch(client, inspectorate, investigation_id, {"assessment_required": True})
    # 60 + the 30 days granted (not 120): day 90 is Thursday 18 February 2027.
    assert response.json()["extension_days"] == 30
    assert response.json()["due_at"] == "2027-02-19T00:00:00+07:00"


def test_extension_days_may_reach_the_assessment_period_once_it_is_in_force(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    patch(client, inspectorate, investigation_id, {"assessment_required": True})
    body = {"reason": REASON, "approved_by": APPROVER, "days": 60}
    response = _extend(client, inspectorate, investigation_id, body)
    assert response.status_code == 200, response.text
    # Day 120 from Friday 2026-11-20 is Saturday 20 March 2027: Monday 22 March.
    assert response.json()["due_at"] == "2027-03-23T00:00:00+07:00"


def test_minor_injuries_only_cannot_be_extended(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    # Law 84/2015 Art. 35.6: the extension is for the 7, 20, 30 and 60-day cases.
    minor = [victim(national_id=None, outcome="minor_injury")]
    report = file_report(client, enterprise, category="technical_incident", victims=minor)
    response = _extend(client, inspectorate, report["investigation_id"])
    assert response.status_code == 409
    assert "35.6" in response.json()["detail"]


def test_minor_injuries_with_an_assessment_may_be_extended(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    minor = [victim(national_id=None, outcome="minor_injury")]
    report = file_report(client, enterprise, category="technical_incident", victims=minor)
    patch(client, inspectorate, report["investigation_id"], {"assessment_required": True})
    response = _extend(client, inspectorate, report["investigation_id"])
    assert response.status_code == 200, response.text
    assert response.json()["extension_days"] == 60
