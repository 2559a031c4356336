"""Deadlines through the API (Law 84/2015 Art. 35.6, counted as the Civil Code 2015 Arts.
147–148 count), with the clock frozen at Friday 2026-11-20 10:00 Vietnam time: every report
below is received at that instant. Day N is 2026-11-20 + N days; ``due_at`` is the end of that
day (next day 00:00+07:00), rolled past weekends and public holidays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import (
    API,
    Org,
    file_report,
    investigation_of,
    patch,
    serious_victims,
    victim,
)

RECEIVED = "2026-11-20T10:00:00+07:00"
#: Day 30 is Sunday 20 December: rolled to Monday 21 December, due at its end.
FATAL_DUE = "2026-12-22T00:00:00+07:00"


def _extend(client: TestClient, org: Org, investigation_id: str, **body: Any) -> Any:
    return client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json={
            "reason": "Chờ kết quả giám định pháp y",
            "approved_by": "Giám đốc Sở Nội vụ",
            **body,
        },
        headers=org.headers,
    )


def test_fatal_accident_is_due_at_the_end_of_day_30_rolled_past_the_weekend(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation = investigation_of(client, inspectorate, file_report(client, enterprise))
    assert investigation["opened_at"] == RECEIVED
    assert investigation["due_at"] == FATAL_DUE


def test_two_seriously_injured_is_due_at_the_end_of_day_20(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    # Day 20 is Thursday 10 December.
    assert investigation_of(client, inspectorate, report)["due_at"] == "2026-12-11T00:00:00+07:00"


def test_one_seriously_injured_is_due_at_the_end_of_day_7(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(
        client, enterprise, category="technical_incident", victims=serious_victims(1)
    )
    # Day 7 is Friday 27 November.
    assert investigation_of(client, inspectorate, report)["due_at"] == "2026-11-28T00:00:00+07:00"


def test_minor_injuries_only_are_due_at_the_end_of_day_4(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    minor = [victim(national_id=None, outcome="minor_injury")]
    report = file_report(client, enterprise, category="technical_incident", victims=minor)
    # Day 4 is Tuesday 24 November 2026, Vietnam Culture Day (a holiday from 2026): Wednesday.
    assert investigation_of(client, inspectorate, report)["due_at"] == "2026-11-26T00:00:00+07:00"


def test_technical_incident_without_victims_has_no_statutory_period(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, category="technical_incident", victims=[])
    investigation = investigation_of(client, inspectorate, report)
    assert investigation["severity"] == "none"
    assert investigation["due_at"] is None
    assert investigation["overdue"] is False
    frozen_clock.freeze(datetime.fromisoformat("2030-01-01T00:00:00+07:00"))
    assert investigation_of(client, inspectorate, report)["overdue"] is False


def test_investigation_without_a_period_still_moves_through_its_statuses(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, category="technical_incident", victims=[])
    investigation_id = report["investigation_id"]
    for body in (
        {"status": "in_progress", "assessment_required": True},
        {"status": "concluded", "conclusion": "Không có người bị nạn."},
        {"status": "closed"},
    ):
        response = patch(client, inspectorate, investigation_id, body)
        assert response.status_code == 200, response.text
        assert response.json()["due_at"] is None


def test_deadline_runs_from_receipt_not_from_the_accident(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, occurred_at="2026-11-01T07:00:00+07:00")
    assert investigation_of(client, inspectorate, report)["due_at"] == FATAL_DUE


def test_assessment_required_sets_a_60_day_period(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation = investigation_of(client, inspectorate, file_report(client, enterprise))
    response = patch(client, inspectorate, investigation["id"], {"assessment_required": True})
    assert response.status_code == 200, response.text
    assert response.json()["assessment_required"] is True
    # Day 60 is Tuesday 19 January 2027.
    assert response.json()["due_at"] == "2027-01-20T00:00:00+07:00"


def test_clearing_assessment_required_restores_the_base_period(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    investigation_id = report["investigation_id"]
    patch(client, inspectorate, investigation_id, {"assessment_required": True})
    response = patch(client, inspectorate, investigation_id, {"assessment_required": False})
    assert response.json()["due_at"] == "2026-12-11T00:00:00+07:00"


def test_a_later_death_moves_a_7_day_period_to_30_days(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(
        client, enterprise, category="technical_incident", victims=serious_victims(1)
    )
    amended = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": [{**serious_victims(1)[0], "outcome": "dead"}]},
        headers={**enterprise.headers, "Idempotency-Key": "later-death"},
    )
    assert amended.status_code == 201, amended.text
    assert investigation_of(client, inspectorate, report)["due_at"] == FATAL_DUE


def test_not_overdue_exactly_at_the_deadline(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    frozen_clock.freeze(datetime.fromisoformat(FATAL_DUE))
    assert investigation_of(client, inspectorate, report)["overdue"] is False


def test_overdue_one_second_after_the_deadline(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    frozen_clock.freeze(datetime.fromisoformat("2026-12-22T00:00:01+07:00"))
    assert investigation_of(client, inspectorate, report)["overdue"] is True


def test_in_progress_past_the_deadline_is_overdue(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    patch(client, inspectorate, report["investigation_id"], {"status": "in_progress"})
    frozen_clock.freeze(datetime.fromisoformat("2026-12-11T00:00:00.000001+07:00"))
    assert investigation_of(client, inspectorate, report)["overdue"] is True


def test_concluded_investigation_is_never_overdue(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    investigation_id = report["investigation_id"]
    patch(client, inspectorate, investigation_id, {"status": "in_progress"})
    patch(client, inspectorate, investigation_id, {"status": "concluded", "conclusion": "Xong"})
    frozen_clock.freeze(datetime.fromisoformat("2027-11-20T10:00:00+07:00"))
    assert investigation_of(client, inspectorate, report)["overdue"] is False


def test_extension_lifts_overdue(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    frozen_clock.freeze(datetime.fromisoformat("2026-12-22T10:00:00+07:00"))
    assert investigation_of(client, inspectorate, report)["overdue"] is True
    response = _extend(client, inspectorate, report["investigation_id"])
    assert response.json()["overdue"] is False
