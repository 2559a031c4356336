"""GET /stats?year=: yearly figures per place against a hand-computed fixture."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, Org, OrgFactory, file_report, move, serious_victims, victim

ZERO = {
    "reports": 0,
    "labour_accidents": 0,
    "fatal_accidents": 0,
    "deaths": 0,
    "seriously_injured": 0,
    "technical_incidents": 0,
    "technical_incidents_fatal": 0,
    "technical_incident_deaths": 0,
    "technical_incident_seriously_injured": 0,
    "investigations_open": 0,
    "investigations_overdue": 0,
    "investigations_concluded": 0,
    "fatal_accidents_concluded": 0,
    "fatal_concluded_share": None,
}


def dead(name: str) -> dict[str, Any]:
    return victim(full_name=name, national_id=None, outcome="dead")


@pytest.fixture
def year_of_reports(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    """All received 2026-11-20 10:00; the clock then moves to 2026-12-15 10:00.

    24121 (Phường Tân Lập, old district 643): A fatal (2 dead, 1 seriously injured),
         concluded; B serious (2), open, overdue (due 12-11 00:00); C technical incident
         without victims on 2026-01-01 00:30 Vietnam time, open, no statutory period (never
         overdue).
    24343 (Xã Krông Năng, old 650): D fatal (1 dead), in progress, due 12-22 00:00 (not
         overdue);
         E fatal (1 dead) on 2025-12-31 23:30 Vietnam time: counts for 2025.
    24280 (Xã Cư M'gar, old 648): F serious (3), closed.
    """
    a = file_report(
        client,
        enterprise,
        occurred_at="2026-03-01T08:00:00+07:00",
        victims=[dead("A1"), dead("A2"), victim(national_id=None, outcome="seriously_injured")],
    )
    file_report(
        client, enterprise, occurred_at="2026-05-01T08:00:00+07:00", victims=serious_victims(2)
    )
    file_report(
        client,
        enterprise,
        category="technical_incident",
        occurred_at="2026-01-01T00:30:00+07:00",
        victims=[],
    )
    d = file_report(
        client, enterprise, commune_code="24343", occurred_at="2026-06-01T08:00:00+07:00"
    )
    file_report(client, enterprise, commune_code="24343", occurred_at="2025-12-31T23:30:00+07:00")
    f = file_report(
        client,
        enterprise,
        commune_code="24280",
        occurred_at="2026-08-01T08:00:00+07:00",
        victims=serious_victims(3),
    )
    move(client, inspectorate, a["investigation_id"], "in_progress", "concluded")
    move(client, inspectorate, d["investigation_id"], "in_progress")
    move(client, inspectorate, f["investigation_id"], "in_progress", "concluded", "closed")
    frozen_clock.freeze(datetime.fromisoformat("2026-12-15T10:00:00+07:00"))


def stats(client: TestClient, org: Org, query: str = "?year=2026") -> Any:
    response = client.get(f"{API}/stats{query}", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


UNIT_FIELDS = ("code", "name", "level", "map", "district_codes")


def by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["code"]: {k: v for k, v in d.items() if k not in UNIT_FIELDS} for d in body["units"]}


FIGURES_643 = {
    **ZERO,
    "reports": 3,
    "labour_accidents": 2,
    "fatal_accidents": 1,
    "deaths": 2,
    "seriously_injured": 3,
    "technical_incidents": 1,
    "investigations_open": 2,
    "investigations_overdue": 1,
    "investigations_concluded": 1,
    "fatal_accidents_concluded": 1,
    "fatal_concluded_share": 1.0,
}
FIGURES_650 = {
    **ZERO,
    "reports": 1,
    "labour_accidents": 1,
    "fatal_accidents": 1,
    "deaths": 1,
    "investigations_open": 1,
    "fatal_concluded_share": 0.0,
}
FIGURES_648 = {
    **ZERO,
    "reports": 1,
    "labour_accidents": 1,
    "seriously_injured": 3,
    "investigations_concluded": 1,
}


def test_province_figures_per_commune_of_the_2025_map(
    client: TestClient, inspectorate: Org, year_of_reports: None
) -> None:
    body = stats(client, inspectorate)
    assert body["year"] == 2026
    assert body["scope"] == "province"
    assert body["by"] == "place"
    figures = by_code(body)
    assert figures["24121"] == FIGURES_643
    assert figures["24343"] == FIGURES_650
    assert figures["24280"] == FIGURES_648
    assert figures["22015"] == ZERO


def test_province_total(client: TestClient, inspectorate: Org, year_of_reports: None) -> None:
    assert stats(client, inspectorate)["total"] == {
        **ZERO,
        "reports": 5,
        "labour_accidents": 4,
        "fatal_accidents": 2,
        "deaths": 3,
        "seriously_injured": 6,
        "technical_incidents": 1,
        "investigations_open": 3,
        "investigations_overdue": 1,
        "investigations_concluded": 2,
        "fatal_accidents_concluded": 1,
        "fatal_concluded_share": 0.5,
    }


def test_every_commune_is_listed_in_order_with_its_name(
    client: TestClient, inspectorate: Org, year_of_reports: None
) -> None:
    units = stats(client, inspectorate)["units"]
    assert len(units) == 102
    assert [u["code"] for u in units] == sorted(u["code"] for u in units)
    assert {u["level"] for u in units} == {"commune"}
    [tan_lap] = [u for u in units if u["code"] == "24121"]
    assert tan_lap["name"] == "Phường Tân Lập"
    assert tan_lap["map"] == "2025"
    assert tan_lap["district_codes"] == ["643"]


def test_by_district_rolls_communes_up_to_their_old_district(
    client: TestClient, inspectorate: Org, year_of_reports: None
) -> None:
    body = stats(client, inspectorate, "?year=2026&by=district")
    assert body["by"] == "district"
    figures = by_code(body)
    assert figures["643"] == FIGURES_643
    assert figures["650"] == FIGURES_650
    assert figures["648"] == FIGURES_648
    assert figures["657"] == ZERO
    # Two wards span several old districts: rows of their own, never a split count.
    spanning = {u["code"]: u["district_codes"] for u in body["units"] if u["level"] == "commune"}
    assert spanning == {"22015": ["555", "563"], "22240": ["555", "562", "564"]}
    assert len(body["units"]) == 15 + 9 + 2


def test_year_is_the_year_the_accident_occurred_in_vietnam_time(
    client: TestClient, inspectorate: Org, year_of_reports: None
) -> None:
    previous = stats(client, inspectorate, "?year=2025")
    assert previous["total"]["reports"] == 1
    assert by_code(previous)["24343"]["fatal_accidents"] == 1
    assert stats(client, inspectorate, "?year=2024")["total"]["reports"] == 0


def test_year_defaults_to_the_current_year(
    client: TestClient, inspectorate: Org, year_of_reports: None
) -> None:
    assert stats(client, inspectorate, "")["year"] == 2026


def test_commune_police_sees_its_commune_only(
    client: TestClient, police: Org, year_of_reports: None
) -> None:
    body = stats(client, police)
    assert body["scope"] == "area"
    assert [d["code"] for d in body["units"]] == ["24121"]
    assert by_code(body)["24121"] == FIGURES_643
    assert body["total"] == FIGURES_643


def test_commune_committee_sees_its_commune_only(
    client: TestClient, committee: Org, year_of_reports: None
) -> None:
    body = stats(client, committee)
    assert [d["code"] for d in body["units"]] == ["24280"]
    assert body["total"] == FIGURES_648


def test_provincial_police_sees_the_province(
    client: TestClient, orgs: OrgFactory, year_of_reports: None
) -> None:
    police = orgs.create("police", province_code="66", notify_emails=["ca@tnld.test"])
    assert stats(client, police)["total"]["reports"] == 5


def test_the_year_of_the_reform_has_both_maps(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    """2025: districts of map 2024 until 30 June, communes of map 2025 from 1 July."""
    file_report(
        client, enterprise, occurred_at="2025-06-30T23:59:00+07:00", district_code="643",
        commune_code=None,
    )  # fmt: skip
    file_report(client, enterprise, occurred_at="2025-07-01T00:00:00+07:00")
    body = stats(client, inspectorate, "?year=2025")
    levels = {(u["level"], u["map"]) for u in body["units"]}
    assert levels == {("district", "2024"), ("commune", "2025")}
    assert len(body["units"]) == 15 + 9 + 102
    figures = by_code(body)
    assert figures["643"]["reports"] == 1
    assert figures["24121"]["reports"] == 1
    rolled = by_code(stats(client, inspectorate, "?year=2025&by=district"))
    assert rolled["643"]["reports"] == 2
    assert "24121" not in rolled


def test_overdue_follows_the_clock(
    client: TestClient, inspectorate: Org, year_of_reports: None, frozen_clock: Any
) -> None:
    # B (due 12-11 00:00) and D (due 12-22 00:00); C has no statutory period.
    frozen_clock.freeze(datetime.fromisoformat("2026-12-22T10:00:00+07:00"))
    assert stats(client, inspectorate)["total"]["investigations_overdue"] == 2


@pytest.mark.parametrize("kind", ["enterprise", "admin"])
def test_other_roles_get_403(
    client: TestClient, orgs: OrgFactory, enterprise: Org, kind: str
) -> None:
    org = enterprise if kind == "enterprise" else orgs.admin
    assert client.get(f"{API}/stats?year=2026", headers=org.headers).status_code == 403


@pytest.mark.parametrize("query", ["?year=1999", "?year=2101", "?year=abc", "?format=xlsx"])
def test_invalid_query_is_422(client: TestClient, inspectorate: Org, query: str) -> None:
    response = client.get(f"{API}/stats{query}", headers=inspectorate.headers)
    assert response.status_code == 422


def test_technical_incidents_with_victims_are_counted_apart_from_labour_accidents(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    incident = file_report(
        client,
        enterprise,
        category="technical_incident",
        commune_code="24540",  # Xã Ea Ning (old district 657)
        occurred_at="2026-10-01T08:00:00+07:00",
        victims=[dead("T1"), victim(national_id=None, outcome="seriously_injured")],
    )
    move(client, inspectorate, incident["investigation_id"], "in_progress", "concluded")
    figures = by_code(stats(client, inspectorate))["24540"]
    assert figures == {
        **ZERO,
        "reports": 1,
        "technical_incidents": 1,
        "technical_incidents_fatal": 1,
        "technical_incident_deaths": 1,
        "technical_incident_seriously_injured": 1,
        "investigations_concluded": 1,
    }
