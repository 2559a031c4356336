"""`tnld demo` (make run): today's bodies, and a sample report of 2026 in a commune of map 2025
that reaches that commune's police, the provincial police and the labour authority."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.demo import SAMPLE_REPORT, seed_demo
from tests.helpers import idem

API = "/api/v1"


def test_demo_files_a_2026_accident_in_a_2025_commune(
    client: TestClient, capsys: pytest.CaptureFixture[str], frozen_clock: Any
) -> None:
    seed_demo(base_url="http://127.0.0.1:8000")
    printed = capsys.readouterr().out
    keys = {
        line.split()[0]: line.split()[1]
        for line in printed.splitlines()
        if line.startswith("  ") and len(line.split()) > 2 and line.split()[1].startswith("tnld_")
    }
    assert set(keys) == {"admin", "enterprise", "commune_committee", "police", "inspectorate"}
    assert "Sở Nội vụ tỉnh Đắk Lắk" in printed
    assert "Thanh tra Sở LĐTBXH" not in printed
    assert "Huyện" not in printed
    assert '"commune_code": "24121"' in printed

    response = client.post(
        f"{API}/reports",
        json=SAMPLE_REPORT,
        headers={"Authorization": f"Bearer {keys['enterprise']}", **idem()},
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["place_name"] == "Phường Tân Lập, Tỉnh Đắk Lắk"
    notified = client.get(
        f"{API}/reports/{report['id']}/notifications",
        headers={"Authorization": f"Bearer {keys['enterprise']}"},
    ).json()
    assert {d["recipient"]["name"] for d in notified} == {
        "Công an phường Tân Lập (demo)",
        "Công an tỉnh Đắk Lắk (demo)",
        "Sở Nội vụ tỉnh Đắk Lắk (demo)",
    }
    assert all(d["status"] != "unroutable" for d in notified)
