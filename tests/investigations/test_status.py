"""The state machine open → in_progress → concluded → closed, and what PATCH may change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import Org, file_report, investigation_of, move, patch

ORDER = ["open", "in_progress", "concluded", "closed"]


def _at(client: TestClient, enterprise: Org, inspectorate: Org, status: str) -> str:
    investigation_id = str(file_report(client, enterprise)["investigation_id"])
    steps = ORDER[1 : ORDER.index(status) + 1]
    if steps:
        move(client, inspectorate, investigation_id, *steps)
    return investigation_id


@pytest.mark.parametrize(
    ("start", "target"),
    [("open", "in_progress"), ("in_progress", "concluded"), ("concluded", "closed")],
)
def test_allowed_move(
    client: TestClient, enterprise: Org, inspectorate: Org, start: str, target: str
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, start)
    body: dict[str, Any] = {"status": target}
    if target == "concluded":
        body["conclusion"] = "Kết luận điều tra"
    response = patch(client, inspectorate, investigation_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == target


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("open", "concluded"),
        ("open", "closed"),
        ("in_progress", "open"),
        ("in_progress", "closed"),
        ("concluded", "open"),
        ("concluded", "in_progress"),
        ("closed", "open"),
        ("closed", "in_progress"),
        ("closed", "concluded"),
    ],
)
def test_refused_move_is_409_and_changes_nothing(
    client: TestClient, enterprise: Org, inspectorate: Org, start: str, target: str
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, start)
    response = patch(
        client, inspectorate, investigation_id, {"status": target, "conclusion": "Kết luận"}
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-transition")
    report_view = investigation_of(client, inspectorate, {"investigation_id": investigation_id})
    assert report_view["status"] == start


def test_concluding_without_a_conclusion_is_422(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "in_progress")
    response = patch(client, inspectorate, investigation_id, {"status": "concluded"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/conclusion"


def test_concluding_with_an_empty_conclusion_is_422(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "in_progress")
    response = patch(
        client, inspectorate, investigation_id, {"status": "concluded", "conclusion": "   "}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/conclusion"


def test_concluding_with_a_null_conclusion_over_a_stored_one_is_422(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "in_progress")
    patch(client, inspectorate, investigation_id, {"conclusion": "Bản nháp"})
    response = patch(
        client, inspectorate, investigation_id, {"status": "concluded", "conclusion": None}
    )
    assert response.status_code == 422


def test_conclusion_stored_earlier_allows_concluding(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "in_progress")
    patch(client, inspectorate, investigation_id, {"conclusion": "Kết luận đã soạn"})
    response = patch(client, inspectorate, investigation_id, {"status": "concluded"})
    assert response.status_code == 200, response.text
    assert response.json()["conclusion"] == "Kết luận đã soạn"


def test_concluding_sets_concluded_at(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "in_progress")
    frozen_clock.advance(timedelta(days=12))
    response = patch(
        client, inspectorate, investigation_id, {"status": "concluded", "conclusion": "Xong"}
    )
    assert response.json()["concluded_at"] == "2026-12-02T10:00:00+07:00"
    assert response.json()["updated_at"] == "2026-12-02T10:00:00+07:00"


def test_sending_the_current_status_changes_nothing(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "in_progress")
    before = client.get(f"/api/v1/investigations/{investigation_id}", headers=inspectorate.headers)
    response = patch(client, inspectorate, investigation_id, {"status": "in_progress"})
    assert response.status_code == 200
    assert response.headers["ETag"] == before.headers["ETag"]
    assert response.json() == before.json()


def test_fields_can_be_set_and_cleared_while_running(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "open")
    response = patch(
        client,
        inspectorate,
        investigation_id,
        {"lead_inspector": "  Lê Văn C  ", "findings": "Giàn giáo không neo"},
    )
    assert response.json()["lead_inspector"] == "Lê Văn C"
    assert response.json()["findings"] == "Giàn giáo không neo"
    cleared = patch(client, inspectorate, investigation_id, {"lead_inspector": None})
    assert cleared.json()["lead_inspector"] is None
    assert cleared.json()["findings"] == "Giàn giáo không neo"


def test_concluded_record_is_fixed(client: TestClient, enterprise: Org, inspectorate: Org) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "concluded")
    response = patch(client, inspectorate, investigation_id, {"findings": "Thêm chi tiết"})
    assert response.status_code == 409


def test_concluded_can_close_while_repeating_unchanged_fields(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "concluded")
    current = investigation_of(client, inspectorate, {"investigation_id": investigation_id})
    response = patch(
        client,
        inspectorate,
        investigation_id,
        {"status": "closed", "conclusion": current["conclusion"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"


@pytest.mark.parametrize(
    "body",
    [
        {"lead_inspector": "Người khác"},
        {"assessment_required": True},
        {"findings": "Bổ sung"},
    ],
)
def test_closed_investigation_cannot_change(
    client: TestClient, enterprise: Org, inspectorate: Org, body: dict[str, Any]
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "closed")
    assert patch(client, inspectorate, investigation_id, body).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"status": "archived"},
        {"status": None},
        {"assessment_required": None},
        {"assessment_required": "yes"},
        {"lead_inspector": ""},
        {"lead_inspector": "Tên\u0000"},
        {"due_at": "2027-01-01T00:00:00+07:00"},
        {"extended": True},
    ],
)
def test_invalid_patch_body_is_422(
    client: TestClient, enterprise: Org, inspectorate: Org, body: dict[str, Any]
) -> None:
    investigation_id = _at(client, enterprise, inspectorate, "open")
    response = patch(client, inspectorate, investigation_id, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_patch_of_unknown_investigation_is_404(client: TestClient, inspectorate: Org) -> None:
    response = patch(
        client, inspectorate, "7f1d0a2e-7c35-4f8e-9a55-3b0b8a1d2c11", {"status": "in_progress"}
    )
    assert response.status_code == 404
