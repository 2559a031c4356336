"""GET /api/v1/divisions?at=: every unit in force on a date (contract, Places)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def units(client: TestClient, at: str) -> dict[tuple[str, str], dict[str, Any]]:
    response = client.get(f"{API}/divisions?at={at}")
    assert response.status_code == 200, response.text
    assert response.json()["at"] == at
    return {(u["level"], u["code"]): u for u in response.json()["items"]}


def test_no_key_is_needed(client: TestClient) -> None:
    assert client.get(f"{API}/divisions").status_code == 200


def test_the_2025_map_on_a_2026_date(client: TestClient) -> None:
    found = units(client, "2026-12-01")
    assert len(found) == 1 + 102
    assert found[("commune", "24121")] == {
        "code": "24121",
        "name": "Phường Tân Lập",
        "level": "commune",
        "parent_code": "66",
        "valid_from": "2025-07-01",
        "valid_to": None,
        "successors": [],
    }
    assert found[("province", "66")]["parent_code"] is None


def test_the_2024_map_on_the_last_day_before_the_reform(client: TestClient) -> None:
    found = units(client, "2025-06-30")
    assert len(found) == 2 + 24 + 286
    assert found[("commune", "24121")] == {
        "code": "24121",
        "name": "Phường Tân Hòa",
        "level": "commune",
        "parent_code": "643",
        "valid_from": None,
        "valid_to": "2025-06-30",
        "successors": ["24121"],
    }
    assert found[("district", "643")]["parent_code"] == "66"
    assert len(found[("commune", "24550")]["successors"]) == 2
    assert found[("province", "54")]["name"] == "Tỉnh Phú Yên"


def test_at_defaults_to_today_in_vietnam_time(client: TestClient, frozen_clock: Any) -> None:
    # 30 June 2025 17:00 UTC is already 1 July in Vietnam: the new map.
    frozen_clock.freeze(datetime.fromisoformat("2025-06-30T17:00:00+00:00"))
    body = client.get(f"{API}/divisions").json()
    assert body["at"] == "2025-07-01"
    assert len(body["items"]) == 1 + 102


@pytest.mark.parametrize("at", ["2025-13-01", "yesterday", "2025-07-01T00:00", "\x00"])
def test_malformed_date_is_422_at_the_parameter(client: TestClient, at: str) -> None:
    response = client.get(f"{API}/divisions", params={"at": at})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e.get("parameter") for e in response.json()["errors"]] == ["at"]
