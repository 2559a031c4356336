"""Each organisation kind reads by its area (contract, Organisations and roles): a commune
police or committee the reports whose current communes include its commune; the provincial
police the province; a legacy district police or committee its 2024 district. Outside: 404,
exactly as if the report did not exist, for reports, notifications and investigations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import Org, OrgFactory, post_report, report_body

API = "/api/v1"
LAST_MINUTE_2024 = "2025-06-30T23:59:00+07:00"


@dataclass
class World:
    reports: dict[str, dict[str, Any]]
    readers: dict[str, Org]


@pytest.fixture
def world(client: TestClient, orgs: OrgFactory, enterprise: Org, inspectorate: Org) -> World:
    """Reports: "tan_lap" 2026 in 24121; "krong_nang" 2026 in 24343; "bmt_2024" 2025-06-30 in
    district 643 (current communes include 24121); "ea_bhok_2024" in 24550 (district 657,
    split into 24544 and 24561)."""

    def filed(body: dict[str, Any]) -> dict[str, Any]:
        response = post_report(client, enterprise, body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    old = {"occurred_at": LAST_MINUTE_2024, "commune_code": None}
    reports = {
        "tan_lap": filed(report_body()),
        "krong_nang": filed(report_body(commune_code="24343")),
        "bmt_2024": filed(report_body(**old, district_code="643")),
        "ea_bhok_2024": filed(report_body(**old, district_code="657") | {"commune_code": "24550"}),
    }
    channel = {"notify_emails": ["x@tnld.test"]}
    readers = {
        "commune_police_24121": orgs.create("police", commune_code="24121", **channel),
        "commune_police_24561": orgs.create("police", commune_code="24561", **channel),
        "provincial_police": orgs.create("police", province_code="66", **channel),
        "district_police_643": orgs.create("police", district_code="643", **channel),
        "commune_committee_24121": orgs.create("commune_committee", commune_code="24121"),
        "district_committee_643": orgs.create("district_committee", district_code="643"),
        "inspectorate": inspectorate,
        "enterprise": enterprise,
    }
    return World(reports, readers)


READABLE = {
    "commune_police_24121": {"tan_lap", "bmt_2024"},
    "commune_police_24561": {"ea_bhok_2024"},
    "provincial_police": {"tan_lap", "krong_nang", "bmt_2024", "ea_bhok_2024"},
    "district_police_643": {"bmt_2024"},
    "commune_committee_24121": {"tan_lap", "bmt_2024"},
    "district_committee_643": {"bmt_2024"},
    "inspectorate": {"tan_lap", "krong_nang", "bmt_2024", "ea_bhok_2024"},
    "enterprise": {"tan_lap", "krong_nang", "bmt_2024", "ea_bhok_2024"},
}
INVESTIGATION_READERS = {
    "commune_police_24121",
    "commune_police_24561",
    "provincial_police",
    "district_police_643",
    "inspectorate",
}


@pytest.mark.parametrize("reader", READABLE)
def test_list_holds_exactly_the_area(client: TestClient, world: World, reader: str) -> None:
    page = client.get(f"{API}/reports", headers=world.readers[reader].headers).json()
    names = {n for n, r in world.reports.items() if r["id"] in {i["id"] for i in page["items"]}}
    assert names == READABLE[reader]


@pytest.mark.parametrize("reader", READABLE)
def test_single_reads_are_404_outside_the_area(
    client: TestClient, world: World, reader: str
) -> None:
    headers = world.readers[reader].headers
    for name, report in world.reports.items():
        expected = 200 if name in READABLE[reader] else 404
        response = client.get(f"{API}/reports/{report['id']}", headers=headers)
        assert response.status_code == expected, (name, response.text)
        notifications = client.get(f"{API}/reports/{report['id']}/notifications", headers=headers)
        assert notifications.status_code == expected, name


@pytest.mark.parametrize("reader", sorted(INVESTIGATION_READERS))
def test_investigations_follow_the_same_area(client: TestClient, world: World, reader: str) -> None:
    headers = world.readers[reader].headers
    listed = client.get(f"{API}/investigations", headers=headers).json()["items"]
    listed_ids = {i["report_id"] for i in listed}
    for name, report in world.reports.items():
        inside = name in READABLE[reader]
        assert (report["id"] in listed_ids) is inside, name
        response = client.get(f"{API}/investigations/{report['investigation_id']}", headers=headers)
        assert response.status_code == (200 if inside else 404), name


def test_investigation_shows_its_place(client: TestClient, world: World) -> None:
    report = world.reports["bmt_2024"]
    headers = world.readers["inspectorate"].headers
    investigation = client.get(
        f"{API}/investigations/{report['investigation_id']}", headers=headers
    ).json()
    assert investigation["district_code"] == "643"
    assert investigation["commune_code"] is None
    assert investigation["current_commune_codes"] == report["current_commune_codes"]
    page = client.get(f"{API}/investigations?commune_code=24121", headers=headers).json()
    assert {i["report_id"] for i in page["items"]} == {
        world.reports["tan_lap"]["id"],
        world.reports["bmt_2024"]["id"],
    }


@pytest.mark.parametrize("reader", ["commune_committee_24121", "district_committee_643"])
def test_committees_may_not_list_investigations(
    client: TestClient, world: World, reader: str
) -> None:
    response = client.get(f"{API}/investigations", headers=world.readers[reader].headers)
    assert response.status_code == 403
