"""Lists are summaries; every read of a whole report by another organisation is audited
(Security and privacy)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.audit.test_audit_trail import of
from tests.helpers import Org, post_report, report_body, victim


def test_report_list_items_are_summaries(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    body = report_body(victims=[victim(), victim(outcome="seriously_injured")])
    report = post_report(client, enterprise, body).json()
    for reader in (enterprise, inspectorate):
        response = client.get("/api/v1/reports", headers=reader.headers)
        assert response.status_code == 200, response.text
        [item] = response.json()["items"]
        assert "victims" not in item
        assert "reporter" not in item
        assert item["victim_count"] == 2
        whole = {k: v for k, v in report.items() if k not in ("victims", "reporter")}
        assert {k: item[k] for k in whole} == whole
        assert "Nguyễn Văn A" not in response.text
        assert "066090001234" not in response.text


def test_reading_a_whole_report_of_another_organisation_is_audited(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    report = post_report(client, enterprise).json()
    assert client.get(f"/api/v1/reports/{report['id']}", headers=enterprise.headers).is_success
    assert [
        e for e in of(client, inspectorate, "report", report["id"]) if e["action"] == "report.read"
    ] == []

    whole = client.get(f"/api/v1/reports/{report['id']}", headers=inspectorate.headers)
    assert whole.status_code == 200
    assert whole.json()["victims"][0]["full_name"] == "Nguyễn Văn A"

    reads = [
        e for e in of(client, inspectorate, "report", report["id"]) if e["action"] == "report.read"
    ]
    assert len(reads) == 1
    assert reads[0]["actor_organisation_id"] == inspectorate.id


def test_listing_reports_is_not_a_read_of_a_whole_report(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    report = post_report(client, enterprise).json()
    assert client.get("/api/v1/reports", headers=inspectorate.headers).is_success
    assert [
        e for e in of(client, inspectorate, "report", report["id"]) if e["action"] == "report.read"
    ] == []
