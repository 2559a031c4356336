"""Reports filed under v1 (a 2024 district whatever the accident's date, as migration 0006
keeps them) stay readable, in scope of today's commune police, and amendable."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.investigations.models import Investigation
from app.reports.models import Report
from tests.helpers import Org, idem, post_report, report_body

API = "/api/v1"


def v1_report(client: TestClient, session: Session, enterprise: Org) -> dict[str, Any]:
    """A 2026 accident in district 643, as v1 filed it (filed here as a 2024 place, then dated
    as v1 would have: the migration gives it exactly these place columns)."""
    body = report_body(
        occurred_at="2025-06-30T23:00:00+07:00", district_code="643", commune_code=None
    )
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    report = dict(response.json())
    occurred = datetime.fromisoformat("2026-11-20T08:30:00+07:00")
    report_id = uuid.UUID(report["id"])
    session.execute(update(Report).where(Report.id == report_id).values(occurred_at=occurred))
    session.execute(
        update(Investigation)
        .where(Investigation.report_id == report_id)
        .values(occurred_at=occurred)
    )
    session.commit()
    return report


def test_a_v1_report_reads_with_its_2024_district(
    client: TestClient, session: Session, enterprise: Org, police: Org, frozen_clock: Any
) -> None:
    report = v1_report(client, session, enterprise)
    read = client.get(f"{API}/reports/{report['id']}", headers=police.headers)
    assert read.status_code == 200  # the commune police of 24121, a successor of 643
    body = read.json()
    assert body["district_code"] == "643"
    assert body["occurred_at"].startswith("2026-11-20")
    assert body["place_name"] == "Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"
    assert "24121" in body["current_commune_codes"]


def test_a_v1_report_can_be_amended(
    client: TestClient, session: Session, enterprise: Org, frozen_clock: Any
) -> None:
    report = v1_report(client, session, enterprise)
    response = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"summary": "Sập giàn giáo tầng 4; đã xác minh thêm."},
        headers={**enterprise.headers, **idem()},
    )
    assert response.status_code == 201, response.text
    assert response.json()["report"]["district_code"] == "643"
