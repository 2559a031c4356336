"""GET /api/v1/reports and /reports/{id}: scope per role, filters, cursor pagination."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_problem
from tests.helpers import Org, OrgFactory, post_report, report_body, victim


@dataclass
class World:
    """Two enterprises, a committee and police in district 648, police in 643, the
    inspectorate, and one report in each corner."""

    ent_a: Org
    ent_b: Org
    committee: Org
    police_643: Org
    police_648: Org
    inspectorate: Org
    admin: Org
    reports: dict[str, dict[str, Any]]


@pytest.fixture
def world(client: TestClient, orgs: OrgFactory, frozen_clock: Any) -> World:
    ent_a = orgs.create("enterprise", tax_code="6000000001")
    ent_b = orgs.create("enterprise", tax_code="6000000002-001")
    committee = orgs.create("commune_committee", commune_code="24280")
    police_643 = orgs.create("police", commune_code="24121", notify_emails=["ca643@tnld.test"])
    police_648 = orgs.create("police", commune_code="24280", webhook_url="https://ca648.test/h")
    inspectorate = orgs.create("inspectorate", notify_emails=["tt@tnld.test"])

    def filed(org: Org, body: dict[str, Any]) -> dict[str, Any]:
        frozen_clock.advance(timedelta(minutes=1))
        response = post_report(client, org, body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    no_contract = [victim(employment="no_labour_contract")]
    reports = {
        "a_643": filed(ent_a, report_body(commune_code="24121")),
        "a_648": filed(
            ent_a,
            report_body(
                commune_code="24280",
                category="technical_incident",
                victims=[],
                occurred_at="2026-11-18T07:00:00+07:00",
            ),
        ),
        "b_648": filed(
            ent_b,
            report_body(
                commune_code="24280",
                victims=[victim(outcome="seriously_injured"), victim(outcome="seriously_injured")],
                occurred_at="2026-11-19T07:00:00+07:00",
            ),
        ),
        "committee_648": filed(committee, report_body(commune_code="24280", victims=no_contract)),
    }
    return World(ent_a, ent_b, committee, police_643, police_648, inspectorate, orgs.admin, reports)


VISIBLE = {
    "ent_a": {"a_643", "a_648"},
    "ent_b": {"b_648"},
    "committee": {"a_648", "b_648", "committee_648"},
    "police_643": {"a_643"},
    "police_648": {"a_648", "b_648", "committee_648"},
    "inspectorate": {"a_643", "a_648", "b_648", "committee_648"},
}
ALL_REPORTS = ["a_643", "a_648", "b_648", "committee_648"]


def _ids(world: World, names: set[str]) -> set[str]:
    return {world.reports[n]["id"] for n in names}


@pytest.mark.parametrize("reader", VISIBLE.keys())
@pytest.mark.parametrize("report", ALL_REPORTS)
def test_report_in_scope_is_200_and_out_of_scope_is_404(
    client: TestClient, world: World, reader: str, report: str
) -> None:
    org: Org = getattr(world, reader)
    response = client.get(f"/api/v1/reports/{world.reports[report]['id']}", headers=org.headers)
    if report in VISIBLE[reader]:
        assert response.status_code == 200, response.text
        assert response.json() == world.reports[report]
    else:
        assert_problem(response, 404, type_suffix="not-found")


def test_foreign_report_is_404_exactly_like_a_missing_one(client: TestClient, world: World) -> None:
    foreign = client.get(
        f"/api/v1/reports/{world.reports['b_648']['id']}", headers=world.ent_a.headers
    )
    missing = client.get(f"/api/v1/reports/{uuid.uuid4()}", headers=world.ent_a.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.parametrize("reader", VISIBLE.keys())
def test_list_returns_only_reports_in_scope(client: TestClient, world: World, reader: str) -> None:
    org: Org = getattr(world, reader)
    response = client.get("/api/v1/reports", headers=org.headers)
    assert response.status_code == 200, response.text
    assert {r["id"] for r in response.json()["items"]} == _ids(world, VISIBLE[reader])
    assert response.json()["next_cursor"] is None


def test_admin_may_not_read_reports(client: TestClient, world: World) -> None:
    report_id = world.reports["a_643"]["id"]
    assert_problem(client.get("/api/v1/reports", headers=world.admin.headers), 403)
    assert_problem(client.get(f"/api/v1/reports/{report_id}", headers=world.admin.headers), 403)


def test_list_is_newest_received_first(client: TestClient, world: World) -> None:
    items = client.get("/api/v1/reports", headers=world.inspectorate.headers).json()["items"]
    assert [r["id"] for r in items] == [world.reports[n]["id"] for n in reversed(ALL_REPORTS)]


def test_list_items_have_the_shape_of_the_single_get(client: TestClient, world: World) -> None:
    items = client.get("/api/v1/reports", headers=world.inspectorate.headers).json()["items"]
    for item in items:
        single = client.get(f"/api/v1/reports/{item['id']}", headers=world.inspectorate.headers)
        assert item == single.json()


def test_unknown_report_id_is_404(client: TestClient, world: World) -> None:
    response = client.get(f"/api/v1/reports/{uuid.uuid4()}", headers=world.inspectorate.headers)
    assert_problem(response, 404)


def test_report_id_that_is_not_a_uuid_is_422(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/reports/TNLD-2026-000001", headers=world.inspectorate.headers)
    assert_problem(response, 422)


# -- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "technical_incident"}, {"a_648"}),
        ({"category": "labour_accident"}, {"a_643", "b_648", "committee_648"}),
        ({"severity": "fatal"}, {"a_643", "committee_648"}),
        ({"severity": "serious"}, {"b_648"}),
        ({"severity": "none"}, {"a_648"}),
        ({"severity": "minor"}, set()),
        ({"commune_code": "24121"}, {"a_643"}),
        ({"commune_code": "24280"}, {"a_648", "b_648", "committee_648"}),
        ({"commune_code": "24343"}, set()),
        ({"occurred_from": "2026-11-19T00:00:00+07:00"}, {"a_643", "b_648", "committee_648"}),
        ({"occurred_to": "2026-11-19T07:00:00+07:00"}, {"a_648", "b_648"}),
        (
            {"occurred_from": "2026-11-19T00:00:00", "occurred_to": "2026-11-19T23:59:59"},
            {"b_648"},
        ),
        ({"occurred_to": "2026-11-18T00:00:00Z"}, {"a_648"}),
        ({"commune_code": "24280", "severity": "fatal"}, {"committee_648"}),
    ],
)
def test_list_filters(
    client: TestClient, world: World, query: dict[str, str], expected: set[str]
) -> None:
    response = client.get("/api/v1/reports", params=query, headers=world.inspectorate.headers)
    assert response.status_code == 200, response.text
    assert {r["id"] for r in response.json()["items"]} == _ids(world, expected)


def test_filters_do_not_widen_the_scope(client: TestClient, world: World) -> None:
    response = client.get(
        "/api/v1/reports", params={"commune_code": "24121"}, headers=world.committee.headers
    )
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("category", "fire"),
        ("severity", "deadly"),
        ("occurred_from", "yesterday"),
        ("occurred_to", "2026-02-30T00:00:00Z"),
        ("occurred_from", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_invalid_filter_is_422(
    client: TestClient, world: World, parameter: str, value: str
) -> None:
    response = client.get(
        "/api/v1/reports", params={parameter: value}, headers=world.inspectorate.headers
    )
    doc = assert_problem(response, 422)
    assert doc["errors"][0].get("parameter") == parameter


# -- pagination --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5"])
def test_limit_outside_1_to_200_is_422(client: TestClient, world: World, limit: str) -> None:
    response = client.get(
        "/api/v1/reports", params={"limit": limit}, headers=world.inspectorate.headers
    )
    doc = assert_problem(response, 422)
    assert doc["errors"][0].get("parameter") == "limit"


@pytest.mark.parametrize("limit", [1, 200])
def test_limit_at_the_bounds_is_accepted(client: TestClient, world: World, limit: int) -> None:
    response = client.get(
        "/api/v1/reports", params={"limit": limit}, headers=world.inspectorate.headers
    )
    assert response.status_code == 200
    assert len(response.json()["items"]) == min(limit, 4)


def _b64(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        _b64({"a": 1}),
        _b64(["2026-11-20T10:00:00+00:00"]),
        _b64(["2026-11-20T10:00:00", str(uuid.uuid4())]),
        _b64(["not a time", str(uuid.uuid4())]),
        _b64(["2026-11-20T10:00:00+00:00", "not a uuid"]),
        _b64([1, 2]),
        _b64(["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_invalid_cursor_is_422(client: TestClient, world: World, cursor: str) -> None:
    response = client.get(
        "/api/v1/reports", params={"cursor": cursor}, headers=world.inspectorate.headers
    )
    doc = assert_problem(response, 422)
    assert doc["errors"][0].get("parameter") == "cursor"


def test_pages_cover_everything_without_overlap(client: TestClient, world: World) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/reports", params=params, headers=world.inspectorate.headers)
        assert page.status_code == 200, page.text
        seen += [r["id"] for r in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert pages == 4
    assert seen == [world.reports[n]["id"] for n in reversed(ALL_REPORTS)]


def test_pages_of_reports_received_in_the_same_instant_do_not_overlap(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    created = {post_report(client, enterprise).json()["id"] for _ in range(7)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/reports", params=params, headers=enterprise.headers).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert set(seen) == created


def test_cursor_keeps_the_filters_of_the_query(client: TestClient, world: World) -> None:
    params: dict[str, Any] = {"commune_code": "24280", "limit": 2}
    first = client.get("/api/v1/reports", params=params, headers=world.inspectorate.headers)
    cursor = first.json()["next_cursor"]
    second = client.get(
        "/api/v1/reports", params={**params, "cursor": cursor}, headers=world.inspectorate.headers
    )
    ids = [r["id"] for r in first.json()["items"] + second.json()["items"]]
    assert set(ids) == _ids(world, {"a_648", "b_648", "committee_648"})
    assert second.json()["next_cursor"] is None
