"""Follow-up reports: POST /reports/{id}/amendments and GET /reports/{id}/versions."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.notifications.models import Delivery, NotificationEvent
from tests.helpers import (
    API,
    Org,
    OrgFactory,
    file_report,
    idem,
    investigation_of,
    serious_victims,
    victim,
)


def amend(
    client: TestClient, org: Org, report_id: str, body: dict[str, Any], **headers: str
) -> Any:
    return client.post(
        f"{API}/reports/{report_id}/amendments",
        json=body,
        headers={**org.headers, **(headers or idem())},
    )


def died_in_hospital(victims: list[dict[str, Any]], index: int = 0) -> list[dict[str, Any]]:
    changed = [dict(v) for v in victims]
    changed[index]["outcome"] = "dead"
    return changed


@pytest.fixture
def serious(client: TestClient, enterprise: Org, frozen_clock: Any) -> dict[str, Any]:
    """Two seriously injured workers, filed 2026-11-20 10:00 Vietnam time."""
    return file_report(client, enterprise, victims=serious_victims(2))


def test_victim_dying_makes_the_report_fatal(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    response = amend(
        client, enterprise, serious["id"], {"victims": died_in_hospital(serious["victims"])}
    )
    assert response.status_code == 201, response.text
    report = client.get(f"{API}/reports/{serious['id']}", headers=enterprise.headers).json()
    assert report["severity"] == "fatal"
    assert (report["dead_count"], report["seriously_injured_count"]) == (1, 1)
    assert report["victims"][0]["outcome"] == "dead"


def test_severity_rise_recomputes_due_at_from_the_original_receipt(
    client: TestClient,
    enterprise: Org,
    inspectorate: Org,
    serious: dict[str, Any],
    frozen_clock: Any,
) -> None:
    assert investigation_of(client, inspectorate, serious)["due_at"] == "2026-12-11T00:00:00+07:00"
    frozen_clock.advance(timedelta(days=6, hours=3))
    amend(client, enterprise, serious["id"], {"victims": died_in_hospital(serious["victims"])})
    investigation = investigation_of(client, inspectorate, serious)
    assert investigation["severity"] == "fatal"
    assert investigation["opened_at"] == "2026-11-20T10:00:00+07:00"
    # Day 30 is Sunday 20 December: Monday 21, due at its end (Civil Code Arts. 147-148).
    assert investigation["due_at"] == "2026-12-22T00:00:00+07:00"


def test_severity_rise_keeps_an_extension_and_an_assessment(
    client: TestClient, enterprise: Org, inspectorate: Org, serious: dict[str, Any]
) -> None:
    investigation_id = serious["investigation_id"]
    client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json={"reason": "Gia hạn", "approved_by": "Giám đốc Sở Nội vụ"},
        headers=inspectorate.headers,
    )
    amend(client, enterprise, serious["id"], {"victims": died_in_hospital(serious["victims"])})
    # The base becomes 30 days and the extension keeps its 20: day 50 is Saturday 9 January
    # 2027, rolled to Monday 11 January.
    assert investigation_of(client, inspectorate, serious)["due_at"] == "2027-01-12T00:00:00+07:00"


def test_corrected_fatal_to_serious_follows_the_shorter_period(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    # Decision: the base period follows the accident as currently declared, either way.
    report = file_report(
        client,
        enterprise,
        victims=[
            victim(outcome="dead"),
            victim(full_name="B", national_id=None, outcome="seriously_injured"),
        ],
    )
    victims = [dict(v) for v in report["victims"]]
    victims[0]["outcome"] = "seriously_injured"
    response = amend(client, enterprise, report["id"], {"victims": victims, "note": "Nhầm lẫn"})
    assert response.status_code == 201, response.text
    assert investigation_of(client, inspectorate, report)["due_at"] == "2026-12-11T00:00:00+07:00"


def test_received_at_and_reference_never_change(
    client: TestClient, enterprise: Org, serious: dict[str, Any], frozen_clock: Any
) -> None:
    frozen_clock.advance(timedelta(days=3))
    amend(client, enterprise, serious["id"], {"summary": "Một công nhân tử vong tại bệnh viện."})
    report = client.get(f"{API}/reports/{serious['id']}", headers=enterprise.headers).json()
    assert report["received_at"] == serious["received_at"]
    assert report["reference"] == serious["reference"]
    assert report["late"] == serious["late"]
    assert report["version"] == 2
    assert report["updated_at"] == "2026-11-23T10:00:00+07:00"


def test_response_is_the_new_version_with_its_changes(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    response = amend(
        client,
        enterprise,
        serious["id"],
        {"note": "Nạn nhân tử vong", "victims": died_in_hospital(serious["victims"])},
    )
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/reports/{serious['id']}/versions/2"
    assert body["version"] == 2
    assert body["note"] == "Nạn nhân tử vong"
    assert body["created_by"]["id"] == enterprise.id
    assert body["api_key_id"] is not None
    assert {"field": "/victims/0/outcome", "from": "seriously_injured", "to": "dead"} in body[
        "changes"
    ]
    assert {"field": "/severity", "from": "serious", "to": "fatal"} in body["changes"]
    assert (
        body["report"]
        == client.get(f"{API}/reports/{serious['id']}", headers=enterprise.headers).json()
    )


def test_versions_are_numbered_with_who_and_when(
    client: TestClient, enterprise: Org, serious: dict[str, Any], frozen_clock: Any
) -> None:
    frozen_clock.advance(timedelta(days=1))
    amend(client, enterprise, serious["id"], {"summary": "Cập nhật lần 1"})
    frozen_clock.advance(timedelta(days=1))
    amend(client, enterprise, serious["id"], {"victims": died_in_hospital(serious["victims"])})
    page = client.get(f"{API}/reports/{serious['id']}/versions", headers=enterprise.headers).json()
    versions = page["items"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["created_at"] for v in versions] == [
        "2026-11-20T10:00:00+07:00",
        "2026-11-21T10:00:00+07:00",
        "2026-11-22T10:00:00+07:00",
    ]
    assert {v["created_by"]["id"] for v in versions} == {enterprise.id}
    assert versions[0]["changes"] == []
    assert versions[0]["report"] == {**serious}
    assert versions[1]["report"]["summary"] == "Cập nhật lần 1"
    assert versions[1]["report"]["severity"] == "serious"
    assert versions[2]["report"]["severity"] == "fatal"


def test_unamended_report_has_one_version(
    client: TestClient, police: Org, serious: dict[str, Any]
) -> None:
    page = client.get(f"{API}/reports/{serious['id']}/versions", headers=police.headers).json()
    assert [v["version"] for v in page["items"]] == [1]
    assert page["items"][0]["report"] == serious
    assert page["next_cursor"] is None


def test_single_version_can_be_read(
    client: TestClient, enterprise: Org, inspectorate: Org, serious: dict[str, Any]
) -> None:
    amend(client, enterprise, serious["id"], {"summary": "Bổ sung"})
    first = client.get(f"{API}/reports/{serious['id']}/versions/1", headers=inspectorate.headers)
    assert first.status_code == 200
    assert first.json()["report"]["summary"] == serious["summary"]
    missing = client.get(f"{API}/reports/{serious['id']}/versions/3", headers=inspectorate.headers)
    assert missing.status_code == 404


def test_adding_a_victim(client: TestClient, enterprise: Org, serious: dict[str, Any]) -> None:
    newcomer = victim(
        full_name="Phạm Văn D", national_id="066095004321", outcome="seriously_injured"
    )
    response = amend(
        client, enterprise, serious["id"], {"victims": [*serious["victims"], newcomer]}
    )
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["seriously_injured_count"] == 3
    added = next(c for c in response.json()["changes"] if c["field"] == "/victims/2")
    assert added["from"] is None
    assert added["to"]["full_name"] == "Phạm Văn D"
    assert added["to"]["employment"] == "labour_contract"


def test_correcting_a_name_and_an_identity_number(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    victims = [dict(v) for v in serious["victims"]]
    victims[1]["full_name"] = "Nguyễn Thị Hoa"
    victims[1]["national_id"] = "066190001111"
    changes = amend(client, enterprise, serious["id"], {"victims": victims}).json()["changes"]
    assert changes == [
        {"field": "/victims/1/full_name", "from": "Nạn nhân 1", "to": "Nguyễn Thị Hoa"},
        {"field": "/victims/1/national_id", "from": None, "to": "066190001111"},
    ]


def test_text_fields_change_and_null_clears_an_optional_one(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    response = amend(
        client,
        enterprise,
        serious["id"],
        {
            "summary": "  " + unicodedata.normalize("NFD", "Mô tả mới") + "  ",
            "initial_cause": None,
            "reporter": {**serious["reporter"], "phone": "0262 3812 345"},
        },
    )
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["summary"] == "Mô tả mới"
    assert report["initial_cause"] is None
    assert report["reporter"]["phone"] == "0262 3812 345"
    assert report["address"] == serious["address"]


def test_removing_a_victim_is_422(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    response = amend(client, enterprise, serious["id"], {"victims": serious["victims"][:1]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/victims"


def test_amendment_making_the_accident_not_notifiable_is_refused_and_writes_nothing(
    client: TestClient, enterprise: Org, serious: dict[str, Any], session: Session
) -> None:
    victims = [dict(v) for v in serious["victims"]]
    victims[0]["outcome"] = "minor_injury"
    response = amend(client, enterprise, serious["id"], {"victims": victims})
    assert response.status_code == 422
    assert response.json()["type"].endswith("/not-notifiable")
    report = client.get(f"{API}/reports/{serious['id']}", headers=enterprise.headers).json()
    assert report == serious
    events = session.scalars(select(NotificationEvent.type)).all()
    assert events == ["report.created"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            {"victims": [victim(birth_year=2030), victim(outcome="seriously_injured")]},
            "/victims/0/birth_year",
        ),
        ({"victims": [victim(national_id="123"), victim()]}, "/victims/0/national_id"),
        ({"address": None}, "/address"),
        ({"summary": ""}, "/summary"),
        ({"category": "technical_incident"}, "/category"),
        ({"commune_code": "24343"}, "/commune_code"),
        ({"received_at": "2026-11-19T10:00:00+07:00"}, "/received_at"),
        ({"reporter": {"full_name": "X", "phone": "12345"}}, "/reporter/phone"),
    ],
)
def test_invalid_amendment_is_422_with_a_pointer(
    client: TestClient, enterprise: Org, serious: dict[str, Any], body: dict[str, Any], pointer: str
) -> None:
    response = amend(client, enterprise, serious["id"], body)
    assert response.status_code == 422, response.text
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


def test_amendment_that_changes_nothing_is_422(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    response = amend(
        client, enterprise, serious["id"], {"summary": serious["summary"], "note": "x"}
    )
    assert response.status_code == 422


def test_amended_event_goes_to_the_same_recipients(
    client: TestClient,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    serious: dict[str, Any],
    session: Session,
) -> None:
    amend(client, enterprise, serious["id"], {"victims": died_in_hospital(serious["victims"])})
    events = {e.type: e for e in session.scalars(select(NotificationEvent))}
    assert set(events) == {"report.created", "report.amended"}

    def recipients(event_type: str) -> set[tuple[Any, Any]]:
        rows = session.scalars(select(Delivery).where(Delivery.event_id == events[event_type].id))
        return {(d.recipient_id, d.channel) for d in rows}

    assert recipients("report.amended") == recipients("report.created")
    assert len(recipients("report.amended")) == 2


def test_amended_event_payload_is_the_report_plus_the_amendment(
    client: TestClient, enterprise: Org, serious: dict[str, Any], session: Session
) -> None:
    response = amend(
        client, enterprise, serious["id"], {"victims": died_in_hospital(serious["victims"])}
    )
    report = client.get(f"{API}/reports/{serious['id']}", headers=enterprise.headers).json()
    event = session.scalars(
        select(NotificationEvent).where(NotificationEvent.type == "report.amended")
    ).one()
    amendment = event.payload.pop("amendment")
    assert event.payload == report
    assert amendment == {"version": 2, "changes": response.json()["changes"]}


# Idempotency


def test_missing_idempotency_key_is_400(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    response = client.post(
        f"{API}/reports/{serious['id']}/amendments",
        json={"summary": "Bổ sung"},
        headers=enterprise.headers,
    )
    assert response.status_code == 400


def test_replay_returns_the_stored_version_and_creates_nothing(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "amend-once-1"}
    body = {"victims": died_in_hospital(serious["victims"])}
    first = amend(client, enterprise, serious["id"], body, **key)
    second = amend(client, enterprise, serious["id"], body, **key)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["Location"] == first.headers["Location"]
    versions = client.get(f"{API}/reports/{serious['id']}/versions", headers=enterprise.headers)
    assert [v["version"] for v in versions.json()["items"]] == [1, 2]


def test_same_key_with_a_different_body_is_422(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "amend-once-2"}
    amend(client, enterprise, serious["id"], {"summary": "Một"}, **key)
    response = amend(client, enterprise, serious["id"], {"summary": "Hai"}, **key)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")


def test_rejected_amendment_frees_its_key(
    client: TestClient, enterprise: Org, serious: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "amend-once-3"}
    assert (
        amend(
            client, enterprise, serious["id"], {"victims": serious["victims"][:1]}, **key
        ).status_code
        == 422
    )
    assert amend(client, enterprise, serious["id"], {"summary": "Đúng"}, **key).status_code == 201


# Who may amend


def test_another_enterprise_gets_404(
    client: TestClient, orgs: OrgFactory, serious: dict[str, Any]
) -> None:
    other = orgs.create("enterprise", tax_code="6000999999")
    assert amend(client, other, serious["id"], {"summary": "X"}).status_code == 404


def test_committee_that_can_read_but_did_not_file_gets_403(
    client: TestClient, orgs: OrgFactory, serious: dict[str, Any]
) -> None:
    committee = orgs.create("commune_committee", commune_code="24121")
    assert (
        client.get(f"{API}/reports/{serious['id']}", headers=committee.headers).status_code == 200
    )
    assert amend(client, committee, serious["id"], {"summary": "X"}).status_code == 403


@pytest.mark.parametrize("kind", ["police", "inspectorate", "admin"])
def test_readers_and_admin_may_not_amend(
    client: TestClient,
    orgs: OrgFactory,
    police: Org,
    inspectorate: Org,
    serious: dict[str, Any],
    kind: str,
) -> None:
    org = {"police": police, "inspectorate": inspectorate, "admin": orgs.admin}[kind]
    assert amend(client, org, serious["id"], {"summary": "X"}).status_code == 403


def test_committee_amends_its_own_report(
    client: TestClient, committee: Org, frozen_clock: Any
) -> None:
    victims = [
        victim(employment=None, outcome="seriously_injured", national_id=None, full_name=f"N{i}")
        for i in range(2)
    ]
    for v in victims:
        v.pop("employment")
    report = file_report(client, committee, commune_code="24280", victims=victims)
    newcomer = victim(full_name="Người mới", national_id=None, outcome="dead")
    newcomer.pop("employment")
    response = amend(client, committee, report["id"], {"victims": [*report["victims"], newcomer]})
    assert response.status_code == 201, response.text
    assert response.json()["report"]["victims"][2]["employment"] == "no_labour_contract"


def test_committee_may_not_add_a_contract_worker(
    client: TestClient, committee: Org, frozen_clock: Any
) -> None:
    victims = [
        victim(employment="no_labour_contract", national_id=None, full_name=f"N{i}")
        for i in range(1)
    ]
    report = file_report(client, committee, commune_code="24280", victims=victims)
    newcomer = victim(full_name="Người mới", national_id=None, employment="labour_contract")
    response = amend(client, committee, report["id"], {"victims": [*report["victims"], newcomer]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/victims/1/employment"


def test_versions_follow_report_scope(
    client: TestClient, orgs: OrgFactory, serious: dict[str, Any]
) -> None:
    other_police = orgs.create("police", commune_code="24343", notify_emails=["p650@tnld.test"])
    other_enterprise = orgs.create("enterprise", tax_code="6000888888")
    for org in (other_police, other_enterprise):
        response = client.get(f"{API}/reports/{serious['id']}/versions", headers=org.headers)
        assert response.status_code == 404
    admin = orgs.admin
    assert (
        client.get(f"{API}/reports/{serious['id']}/versions", headers=admin.headers).status_code
        == 403
    )
