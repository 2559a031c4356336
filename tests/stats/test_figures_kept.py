"""The province's figures are kept at write time (app.stats.kept); an area's are computed and
kept a short while (app.stats.service.FiguresCache), for the page and the API alike, and
computed again at once after any write that changes them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app import clock
from tests.helpers import Org, file_report, move

STATS = "/api/v1/stats?year=2026"


def figures(client: TestClient, org: Org) -> dict[str, Any]:
    response = client.get(STATS, headers=org.headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_an_areas_figures_are_kept_while_nothing_changes_for_at_most_a_minute(
    client: TestClient, enterprise: Org, police: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    first = figures(client, police)
    clock.advance(timedelta(seconds=59))
    assert figures(client, police)["as_of"] == first["as_of"]
    clock.advance(timedelta(seconds=1))
    again = figures(client, police)
    assert again["as_of"] != first["as_of"]
    assert again["as_of"] == "2026-11-20T10:01:00+07:00"


def test_the_provinces_figures_are_as_of_the_read(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    """Kept at write time (app.stats.kept), with overdue counted at the read: always current."""
    file_report(client, enterprise)
    assert figures(client, inspectorate)["as_of"] == "2026-11-20T10:00:00+07:00"
    clock.advance(timedelta(seconds=1))
    assert figures(client, inspectorate)["as_of"] == "2026-11-20T10:00:01+07:00"


def test_a_new_report_counts_at_once(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    assert figures(client, inspectorate)["total"]["reports"] == 1
    file_report(client, enterprise)
    assert figures(client, inspectorate)["total"]["reports"] == 2


def test_an_investigation_change_counts_at_once(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    assert figures(client, inspectorate)["total"]["investigations_concluded"] == 0
    move(client, inspectorate, report["investigation_id"], "in_progress", "concluded")
    assert figures(client, inspectorate)["total"]["investigations_concluded"] == 1


def test_an_investigation_becomes_overdue_within_a_minute_of_its_deadline(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    assert figures(client, inspectorate)["total"]["investigations_overdue"] == 0
    clock.advance(timedelta(days=60))  # past the fatal accident's 30-day period
    assert figures(client, inspectorate)["total"]["investigations_overdue"] == 1


def test_each_scope_has_its_own_figures(
    client: TestClient, enterprise: Org, inspectorate: Org, police: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise, commune_code="24343")
    assert figures(client, inspectorate)["total"]["reports"] == 1
    assert figures(client, police)["total"]["reports"] == 0  # the police of 24121
