"""GET /investigations: filters, order by due_at, cursor pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, Org, file_report, move, serious_victims


def _list(client: TestClient, org: Org, query: str = "") -> Any:
    response = client.get(f"{API}/investigations{query}", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _refs(page: dict[str, Any]) -> list[str]:
    return [item["reference"] for item in page["items"]]


@pytest.fixture
def mixed(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> dict[str, dict[str, Any]]:
    """Filed one day apart from 2026-11-20 10:00:
    a fatal in 643 (due 12-22 00:00), b serious in 643 (due 12-12 00:00), c fatal in 650 (due
    12-23 00:00), d serious in 650 (day 20 is Sunday 12-13: due 12-15 00:00, in progress), e
    fatal in 643 (due 12-25 00:00, concluded)."""
    reports = {}
    specs: dict[str, dict[str, Any]] = {
        "a": {},
        "b": {"victims": serious_victims(2)},
        "c": {"commune_code": "24343"},
        "d": {"commune_code": "24343", "victims": serious_victims(3)},
        "e": {},
    }
    for name, overrides in specs.items():
        reports[name] = file_report(client, enterprise, **overrides)
        frozen_clock.advance(timedelta(days=1))
    move(client, inspectorate, reports["d"]["investigation_id"], "in_progress")
    move(client, inspectorate, reports["e"]["investigation_id"], "in_progress", "concluded")
    return {name: {**r, "ref": r["reference"]} for name, r in reports.items()}


def _refs_of(mixed: dict[str, dict[str, Any]], names: str) -> list[str]:
    return [mixed[n]["ref"] for n in names]


def test_ordered_by_due_at_ascending(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any]
) -> None:
    page = _list(client, inspectorate)
    assert _refs(page) == _refs_of(mixed, "bdace")
    due = [item["due_at"] for item in page["items"]]
    assert due == sorted(due)


def test_item_has_the_same_shape_as_the_single_get(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any]
) -> None:
    item = _list(client, inspectorate)["items"][0]
    single = client.get(f"{API}/investigations/{item['id']}", headers=inspectorate.headers)
    assert item == single.json()


def test_single_get_has_exactly_the_contract_fields(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any]
) -> None:
    investigation_id = mixed["a"]["investigation_id"]
    body = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert set(body.json()) == {
        "id", "report_id", "reference", "commune_code", "district_code",
        "current_commune_codes", "severity", "status",
        "lead_inspector", "assessment_required", "findings", "conclusion", "opened_at",
        "due_at", "extended", "extension_days", "approved_by", "overdue", "concluded_at",
        "updated_at",
    }  # fmt: skip
    assert body.json()["report_id"] == mixed["a"]["id"]


def test_status_filter_is_repeatable(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any]
) -> None:
    assert _refs(_list(client, inspectorate, "?status=open")) == _refs_of(mixed, "bac")
    both = _list(client, inspectorate, "?status=open&status=in_progress")
    assert _refs(both) == _refs_of(mixed, "bdac")
    assert _refs(_list(client, inspectorate, "?status=concluded")) == _refs_of(mixed, "e")


def test_commune_filter(client: TestClient, inspectorate: Org, mixed: dict[str, Any]) -> None:
    assert _refs(_list(client, inspectorate, "?commune_code=24343")) == _refs_of(mixed, "dc")


def test_severity_filter(client: TestClient, inspectorate: Org, mixed: dict[str, Any]) -> None:
    assert _refs(_list(client, inspectorate, "?severity=serious")) == _refs_of(mixed, "bd")


def test_overdue_filter(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any], frozen_clock: Any
) -> None:
    # Now 2026-11-25 10:00; move to 2026-12-12 12:00: b (due 12-12 00:00) is overdue, d (due
    # 12-15 00:00) not yet; then to 12-15 12:00, when d is overdue too.
    frozen_clock.advance(timedelta(days=17, hours=2))
    assert _refs(_list(client, inspectorate, "?overdue=true")) == _refs_of(mixed, "b")
    assert _refs(_list(client, inspectorate, "?overdue=false")) == _refs_of(mixed, "dace")
    frozen_clock.advance(timedelta(days=3))
    overdue = _list(client, inspectorate, "?overdue=true&status=open&status=in_progress")
    assert _refs(overdue) == _refs_of(mixed, "bd")
    assert all(item["overdue"] for item in overdue["items"])


def test_overdue_true_with_only_finished_statuses_is_empty(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any], frozen_clock: Any
) -> None:
    frozen_clock.advance(timedelta(days=100))
    assert _list(client, inspectorate, "?overdue=true&status=concluded")["items"] == []


def test_filters_combine(client: TestClient, inspectorate: Org, mixed: dict[str, Any]) -> None:
    page = _list(client, inspectorate, "?commune_code=24121&severity=fatal&status=open")
    assert _refs(page) == _refs_of(mixed, "a")


def test_cursor_pages_cover_everything_once(
    client: TestClient, inspectorate: Org, mixed: dict[str, Any]
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = _list(client, inspectorate, query)
        seen += _refs(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == _refs_of(mixed, "bdace")


def test_cursor_with_equal_deadlines_skips_nothing(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    # Same instant of receipt and severity: equal due_at, ordered by id.
    ids = {file_report(client, enterprise)["investigation_id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = _list(client, inspectorate, query)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5


@pytest.mark.parametrize(
    "query",
    ["?status=done", "?severity=deadly", "?overdue=maybe", "?limit=0", "?limit=201", "?cursor=xyz"],
)
def test_invalid_query_is_422(client: TestClient, inspectorate: Org, query: str) -> None:
    response = client.get(f"{API}/investigations{query}", headers=inspectorate.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_investigations_without_a_period_come_last_and_are_never_overdue(
    client: TestClient,
    enterprise: Org,
    inspectorate: Org,
    mixed: dict[str, Any],
    frozen_clock: Any,
) -> None:
    incident = file_report(client, enterprise, category="technical_incident", victims=[])
    page = _list(client, inspectorate)
    assert _refs(page) == [*_refs_of(mixed, "bdace"), incident["reference"]]
    assert page["items"][-1]["due_at"] is None
    frozen_clock.advance(timedelta(days=400))
    assert incident["reference"] in _refs(_list(client, inspectorate, "?overdue=false"))
    assert incident["reference"] not in _refs(_list(client, inspectorate, "?overdue=true"))
    open_only = _list(client, inspectorate, "?overdue=false&status=open")
    assert _refs(open_only) == [incident["reference"]]


def test_cursor_pages_through_investigations_without_a_period(
    client: TestClient, enterprise: Org, inspectorate: Org, mixed: dict[str, Any]
) -> None:
    incidents = [
        file_report(client, enterprise, category="technical_incident", victims=[])["reference"]
        for _ in range(3)
    ]
    seen: list[str] = []
    query = "?limit=2"
    while True:
        page = _list(client, inspectorate, query)
        seen += _refs(page)
        if page["next_cursor"] is None:
            break
        query = f"?limit=2&cursor={page['next_cursor']}"
    assert seen[:5] == _refs_of(mixed, "bdace")
    assert sorted(seen[5:]) == sorted(incidents)
    assert len(seen) == 8
