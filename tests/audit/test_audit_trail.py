"""The audit trail: every state-changing action writes an event; GET /audit-events reads
them (inspectorate and admin); nothing updates or deletes them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, Org, OrgFactory, file_report, idem, move, patch, serious_victims


def events(client: TestClient, org: Org, query: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        response = client.get(f"{API}/audit-events?limit=200{query}{suffix}", headers=org.headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


def of(client: TestClient, org: Org, object_type: str, object_id: str) -> list[dict[str, Any]]:
    return events(client, org, f"&object_type={object_type}&object_id={object_id}")


def key_id_of(client: TestClient, admin: Org, org: Org) -> str:
    keys = client.get(f"{API}/organisations/{org.id}/api-keys", headers=admin.headers).json()
    return str(keys[0]["id"])


def test_organisation_creation_is_audited(client: TestClient, admin: Org, police: Org) -> None:
    (event,) = of(client, admin, "organisation", police.id)
    assert event["action"] == "organisation.created"
    assert event["actor_organisation_id"] == admin.id
    assert event["actor_api_key_id"] is not None
    assert event["changes"]["commune_code"] == "24121"


def test_key_creation_and_revocation_are_audited(
    client: TestClient, admin: Org, enterprise: Org
) -> None:
    key_id = key_id_of(client, admin, enterprise)
    assert client.delete(f"{API}/api-keys/{key_id}", headers=admin.headers).status_code == 204
    actions = [e["action"] for e in of(client, admin, "api_key", key_id)]
    assert actions == ["api_key.created", "api_key.revoked"]


def test_filing_is_audited_with_the_actor_key(
    client: TestClient, admin: Org, enterprise: Org, inspectorate: Org
) -> None:
    report = file_report(client, enterprise)
    (filed,) = of(client, inspectorate, "report", report["id"])
    assert filed["action"] == "report.filed"
    assert filed["actor_organisation_id"] == enterprise.id
    assert filed["actor_api_key_id"] == key_id_of(client, admin, enterprise)
    (opened,) = of(client, inspectorate, "investigation", report["investigation_id"])
    assert opened["action"] == "investigation.opened"
    assert opened["actor_organisation_id"] is None  # opened by the service itself


def test_amendment_is_audited_without_personal_data(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    victims = [dict(v) for v in report["victims"]]
    victims[0]["outcome"] = "dead"
    victims[1]["national_id"] = "066190007777"
    response = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, **idem()},
    )
    assert response.status_code == 201, response.text
    amended = of(client, inspectorate, "report", report["id"])[-1]
    assert amended["action"] == "report.amended"
    assert amended["actor_organisation_id"] == enterprise.id
    assert amended["changes"]["version"] == 2
    assert "/victims/1/national_id" in amended["changes"]["fields"]
    assert amended["changes"]["severity"] == {"from": "serious", "to": "fatal"}
    assert "066190007777" not in json.dumps(amended)
    recomputed = of(client, inspectorate, "investigation", report["investigation_id"])[-1]
    assert recomputed["action"] == "investigation.severity_changed"
    assert recomputed["changes"]["severity"] == {"from": "serious", "to": "fatal"}


def test_investigation_update_records_what_changed(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    patch(
        client,
        inspectorate,
        investigation_id,
        {"status": "in_progress", "lead_inspector": "Lê Văn C", "findings": "Ghi chép"},
    )
    updated = of(client, inspectorate, "investigation", investigation_id)[-1]
    assert updated["action"] == "investigation.updated"
    assert updated["actor_organisation_id"] == inspectorate.id
    assert updated["changes"]["status"] == {"from": "open", "to": "in_progress"}
    assert updated["changes"]["lead_inspector"] == {"from": None, "to": "Lê Văn C"}
    assert updated["changes"]["findings"] == {"changed": True, "cleared": False}
    assert "Ghi chép" not in json.dumps(updated)


def test_concluding_records_concluded_at(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    move(client, inspectorate, investigation_id, "in_progress", "concluded")
    concluded = of(client, inspectorate, "investigation", investigation_id)[-1]
    assert concluded["changes"]["status"] == {"from": "in_progress", "to": "concluded"}
    assert concluded["changes"]["concluded_at"]["from"] is None


def test_assessment_records_the_new_due_at(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    patch(client, inspectorate, investigation_id, {"assessment_required": True})
    event = of(client, inspectorate, "investigation", investigation_id)[-1]
    assert event["changes"]["due_at"] == {
        "from": "2026-12-22T00:00:00+07:00",
        "to": "2027-01-20T00:00:00+07:00",
    }


def test_extension_is_audited_with_its_reason(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json={"reason": "Chờ giám định", "approved_by": "Giám đốc Sở Nội vụ"},
        headers=inspectorate.headers,
    )
    event = of(client, inspectorate, "investigation", investigation_id)[-1]
    assert event["action"] == "investigation.extended"
    assert event["changes"]["reason"] == "Chờ giám định"
    assert event["changes"]["extended"] == {"from": False, "to": True}
    assert event["changes"]["approved_by"] == {"from": None, "to": "Giám đốc Sở Nội vụ"}
    assert event["changes"]["extension_days"] == {"from": None, "to": 30}


def test_acknowledgement_is_audited(
    client: TestClient, enterprise: Org, police: Org, inspectorate: Org
) -> None:
    report = file_report(client, enterprise)
    deliveries = client.get(
        f"{API}/reports/{report['id']}/notifications", headers=police.headers
    ).json()
    mine = next(d for d in deliveries if d["recipient"]["id"] == police.id)
    response = client.post(f"{API}/notifications/{mine['id']}/acknowledge", headers=police.headers)
    assert response.status_code == 200, response.text
    (event,) = of(client, inspectorate, "delivery", mine["id"])
    assert event["action"] == "delivery.acknowledged"
    assert event["actor_organisation_id"] == police.id


def test_change_that_changes_nothing_writes_no_event(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    before = of(client, inspectorate, "investigation", investigation_id)
    patch(client, inspectorate, investigation_id, {"status": "open"})
    assert of(client, inspectorate, "investigation", investigation_id) == before


def test_refused_change_writes_no_event(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id = file_report(client, enterprise)["investigation_id"]
    before = of(client, inspectorate, "investigation", investigation_id)
    assert patch(client, inspectorate, investigation_id, {"status": "closed"}).status_code == 409
    assert patch(client, inspectorate, investigation_id, {"status": "x"}).status_code == 422
    assert of(client, inspectorate, "investigation", investigation_id) == before


def test_events_are_listed_oldest_first_across_pages(
    client: TestClient, admin: Org, orgs: OrgFactory
) -> None:
    for _ in range(3):
        orgs.create("enterprise", tax_code="6000123456")
    first = client.get(f"{API}/audit-events?limit=2", headers=admin.headers).json()
    rest = events(client, admin)
    ids = [e["id"] for e in rest]
    assert ids == sorted(ids)
    assert [e["id"] for e in first["items"]] == ids[:2]
    assert len(ids) == len(set(ids))


def test_filter_by_action(client: TestClient, admin: Org, enterprise: Org) -> None:
    found = events(client, admin, "&action=api_key.created")
    assert found
    assert {e["action"] for e in found} == {"api_key.created"}


@pytest.mark.parametrize("kind", ["enterprise", "commune_committee", "police"])
def test_other_roles_may_not_read_the_trail(
    client: TestClient, orgs: OrgFactory, enterprise: Org, committee: Org, police: Org, kind: str
) -> None:
    org = {"enterprise": enterprise, "commune_committee": committee, "police": police}[kind]
    assert client.get(f"{API}/audit-events", headers=org.headers).status_code == 403


def test_reading_the_trail_needs_a_key(client: TestClient) -> None:
    assert client.get(f"{API}/audit-events").status_code == 401


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_endpoint_changes_the_trail(client: TestClient, admin: Org, method: str) -> None:
    before = events(client, admin)
    response = client.request(method, f"{API}/audit-events", headers=admin.headers, json={})
    assert response.status_code == 405
    assert events(client, admin) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_single_event_cannot_be_changed(client: TestClient, admin: Org, method: str) -> None:
    event_id = events(client, admin)[0]["id"]
    response = client.request(method, f"{API}/audit-events/{event_id}", headers=admin.headers)
    assert response.status_code in (404, 405)
    assert events(client, admin)[0]["id"] == event_id
