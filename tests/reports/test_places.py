"""A report's place by the accident's date (contract, Reports: Place): map 2024 until
2025-06-30, map 2025 from 2025-07-01, in Vietnam time; committees within their area."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_problem, row_counts
from tests.helpers import Org, OrgFactory, post_report, report_body, victim

API = "/api/v1"
LAST_MINUTE_2024 = "2025-06-30T23:59:00+07:00"
FIRST_MINUTE_2025 = "2025-07-01T00:00:00+07:00"
BMT_SUCCESSORS = ["24121", "24133", "24154", "24163", "24169", "24175"]


def old_place(**overrides: Any) -> dict[str, Any]:
    """A report of an accident on the last minute of map 2024, in district 643."""
    return report_body(
        **{"occurred_at": LAST_MINUTE_2024, "district_code": "643", "commune_code": None}
        | overrides
    )


def filed(client: TestClient, org: Org, body: dict[str, Any]) -> dict[str, Any]:
    response = post_report(client, org, body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_2026_accident_names_its_2025_commune(client: TestClient, enterprise: Org) -> None:
    report = filed(client, enterprise, report_body())
    assert report["commune_code"] == "24121"
    assert report["district_code"] is None
    assert report["place_name"] == "Phường Tân Lập, Tỉnh Đắk Lắk"
    assert report["current_commune_codes"] == ["24121"]


def test_last_minute_before_the_reform_takes_a_2024_district(
    client: TestClient, enterprise: Org
) -> None:
    report = filed(client, enterprise, old_place())
    assert report["district_code"] == "643"
    assert report["commune_code"] is None
    assert report["place_name"] == "Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"
    assert report["current_commune_codes"] == BMT_SUCCESSORS


def test_last_minute_before_the_reform_refuses_a_commune_alone(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(occurred_at=LAST_MINUTE_2024)
    doc = assert_problem(post_report(client, enterprise, body), 422, pointer="/district_code")
    assert "map 2024" in doc["errors"][0]["detail"]


def test_first_minute_of_the_reform_refuses_a_district(client: TestClient, enterprise: Org) -> None:
    body = old_place(occurred_at=FIRST_MINUTE_2025)
    doc = assert_problem(post_report(client, enterprise, body), 422, pointer="/district_code")
    [district] = [e for e in doc["errors"] if e["pointer"] == "/district_code"]
    assert "map 2025" in district["detail"]
    assert "24121 (Phường Tân Lập)" in district["detail"]  # its successor communes


def test_first_minute_of_the_reform_takes_a_2025_commune(
    client: TestClient, enterprise: Org
) -> None:
    report = filed(client, enterprise, report_body(occurred_at=FIRST_MINUTE_2025))
    assert report["place_name"] == "Phường Tân Lập, Tỉnh Đắk Lắk"


def test_the_boundary_is_vietnam_time(client: TestClient, enterprise: Org) -> None:
    # 17:00 UTC on 30 June is 00:00 on 1 July in Vietnam: the new map.
    body = report_body(occurred_at="2025-06-30T17:00:00Z")
    assert filed(client, enterprise, body)["commune_code"] == "24121"
    late = old_place(occurred_at="2025-06-30T16:59:00Z")
    assert filed(client, enterprise, late)["district_code"] == "643"


def test_a_reused_code_means_two_places(client: TestClient, enterprise: Org) -> None:
    before = filed(client, enterprise, old_place(commune_code="24121"))
    after = filed(client, enterprise, report_body(commune_code="24121"))
    assert before["place_name"] == "Phường Tân Hòa, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"
    assert after["place_name"] == "Phường Tân Lập, Tỉnh Đắk Lắk"
    assert before["current_commune_codes"] == after["current_commune_codes"] == ["24121"]


def test_a_retired_code_after_the_reform_names_its_successor(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(commune_code="24118")
    doc = assert_problem(post_report(client, enterprise, body), 422, pointer="/commune_code")
    detail = doc["errors"][0]["detail"]
    assert "map 2025" in detail
    assert "24121 (Phường Tân Lập)" in detail


def test_a_2024_commune_must_lie_in_the_district(client: TestClient, enterprise: Org) -> None:
    body = old_place(commune_code="24550")  # Xã Ea Bhốk is in 657, not 643
    assert_problem(post_report(client, enterprise, body), 422, pointer="/commune_code")


def test_a_2024_commune_of_the_district_is_accepted(client: TestClient, enterprise: Org) -> None:
    report = filed(client, enterprise, old_place(district_code="657", commune_code="24550"))
    assert report["place_name"] == "Xã Ea Bhốk, Huyện Cư Kuin, Tỉnh Đắk Lắk"
    assert len(report["current_commune_codes"]) == 2  # split between two new units


def test_a_former_phu_yen_district_is_a_2024_place(client: TestClient, enterprise: Org) -> None:
    report = filed(client, enterprise, old_place(district_code="555"))
    assert report["place_name"] == "Thành phố Tuy Hòa, Tỉnh Phú Yên"
    assert report["current_commune_codes"] == ["22015", "22045", "22240"]


def test_a_former_phu_yen_commune_is_a_2025_place(client: TestClient, enterprise: Org) -> None:
    report = filed(client, enterprise, report_body(commune_code="22015"))
    assert report["place_name"] == "Phường Tuy Hòa, Tỉnh Đắk Lắk"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (report_body(commune_code=None), "/commune_code"),
        (report_body(commune_code="24121", district_code="643"), "/district_code"),
        (report_body(occurred_at=LAST_MINUTE_2024, district_code="999"), "/district_code"),
        (report_body(commune_code=24121), "/commune_code"),
    ],
    ids=["no commune", "commune and district", "unknown 2024 district", "code as a number"],
)
def test_a_wrong_place_is_422_and_writes_nothing(
    client: TestClient, enterprise: Org, body: dict[str, Any], pointer: str
) -> None:
    before = row_counts()
    assert_problem(post_report(client, enterprise, body), 422, pointer=pointer)
    assert row_counts() == before


def test_commune_filter_matches_current_communes(client: TestClient, enterprise: Org) -> None:
    old = filed(client, enterprise, old_place(commune_code="24118"))  # old Phường Tân Lập
    new = filed(client, enterprise, report_body())
    district = filed(client, enterprise, old_place())
    filed(client, enterprise, report_body(commune_code="24343"))
    page = client.get(f"{API}/reports?commune_code=24121", headers=enterprise.headers).json()
    assert {r["id"] for r in page["items"]} == {old["id"], new["id"], district["id"]}


def test_district_filter_finds_2024_places(client: TestClient, enterprise: Org) -> None:
    old = filed(client, enterprise, old_place())
    filed(client, enterprise, report_body())
    page = client.get(f"{API}/reports?district_code=643", headers=enterprise.headers).json()
    assert [r["id"] for r in page["items"]] == [old["id"]]


# -- committees ------------------------------------------------------------------------------


def no_contract(**overrides: Any) -> dict[str, Any]:
    body = report_body(**overrides)
    body["victims"] = [victim(employment="no_labour_contract")]
    return body


def test_commune_committee_reports_a_2024_accident_at_a_place_now_in_its_commune(
    client: TestClient, orgs: OrgFactory
) -> None:
    committee = orgs.create("commune_committee", commune_code="24121")
    body = no_contract(occurred_at=LAST_MINUTE_2024, district_code="643", commune_code="24118")
    assert filed(client, committee, body)["current_commune_codes"] == ["24121"]


def test_commune_committee_may_not_report_a_2024_place_outside_its_commune(
    client: TestClient, orgs: OrgFactory
) -> None:
    committee = orgs.create("commune_committee", commune_code="24121")
    body = no_contract(occurred_at=LAST_MINUTE_2024, district_code="657", commune_code="24550")
    assert_problem(post_report(client, committee, body), 422, pointer="/commune_code")


def test_legacy_district_committee_reports_before_the_reform(
    client: TestClient, orgs: OrgFactory
) -> None:
    committee = orgs.create("district_committee", district_code="643")
    body = no_contract(occurred_at=LAST_MINUTE_2024, district_code="643", commune_code=None)
    report = filed(client, committee, body)
    assert report["victims"][0]["employment"] == "no_labour_contract"


def test_legacy_district_committee_may_not_report_after_the_reform(
    client: TestClient, orgs: OrgFactory
) -> None:
    committee = orgs.create("district_committee", district_code="643")
    body = no_contract(occurred_at=FIRST_MINUTE_2025)
    assert_problem(post_report(client, committee, body), 422, pointer="/occurred_at")


def test_legacy_district_committee_may_not_report_another_district(
    client: TestClient, orgs: OrgFactory
) -> None:
    committee = orgs.create("district_committee", district_code="643")
    body = no_contract(occurred_at=LAST_MINUTE_2024, district_code="650", commune_code=None)
    assert_problem(post_report(client, committee, body), 422, pointer="/district_code")
