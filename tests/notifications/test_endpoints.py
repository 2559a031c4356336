"""GET /reports/{id}/notifications, acknowledgement by the recipient, and the operators' view of
undelivered notifications with a manual retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import session_factory
from tests.helpers import Org, OrgFactory, post_report, report_body
from tests.notifications.conftest import Receiver, Recipients, Reply, deliveries, drain

DELIVERY_KEYS = {
    "id",
    "recipient",
    "channel",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "delivered_at",
    "acknowledged_at",
    # Which notice it carries: an escalation is listed as report.unacknowledged (Operations).
    "event_type",
}


def notifications(client: TestClient, org: Org, report_id: str) -> Any:
    return client.get(f"/api/v1/reports/{report_id}/notifications", headers=org.headers)


def delivery_to(client: TestClient, org: Org, report: dict[str, Any], channel: str) -> Any:
    listed = notifications(client, org, report["id"]).json()
    [found] = [d for d in listed if d["recipient"]["id"] == org.id and d["channel"] == channel]
    return found


def audit(action: str) -> list[AuditEvent]:
    with session_factory()() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# -- GET /reports/{id}/notifications ---------------------------------------------------------


def test_notifications_have_the_contract_shape(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()

    response = notifications(client, enterprise, report["id"])

    assert response.status_code == 200
    for item in response.json():
        assert set(item) == DELIVERY_KEYS
        assert set(item["recipient"]) == {"id", "name", "kind"}
        assert item["status"] == "pending"
        assert item["created_at"].endswith("+07:00")


def test_police_of_the_district_and_inspectorate_read_the_notifications(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()

    assert notifications(client, recipients.police, report["id"]).status_code == 200
    assert notifications(client, recipients.inspectorate, report["id"]).status_code == 200


def test_notifications_of_a_report_out_of_scope_are_not_found(
    client: TestClient, orgs: OrgFactory, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()
    other_police = orgs.create("police", commune_code="24305", notify_emails=["ca644@tnld.test"])
    other_enterprise = orgs.create("enterprise", tax_code="6000999999")

    assert notifications(client, other_police, report["id"]).status_code == 404
    assert notifications(client, other_enterprise, report["id"]).status_code == 404


def test_admin_may_not_read_a_reports_notifications(
    client: TestClient, admin: Org, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()

    assert notifications(client, admin, report["id"]).status_code == 403


# -- POST /notifications/{id}/acknowledge ----------------------------------------------------


def test_recipient_acknowledges_a_notification(
    client: TestClient, enterprise: Org, recipients: Recipients, frozen_clock: Any
) -> None:
    report = post_report(client, enterprise).json()
    drain()
    delivery = delivery_to(client, recipients.police, report, "webhook")

    response = client.post(
        f"/api/v1/notifications/{delivery['id']}/acknowledge", headers=recipients.police.headers
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DELIVERY_KEYS
    assert body["id"] == delivery["id"]
    assert body["acknowledged_at"] == "2026-11-20T10:00:00+07:00"
    assert (
        delivery_to(client, recipients.police, report, "webhook")["acknowledged_at"]
        == (body["acknowledged_at"])
    )


def test_repeated_acknowledgement_keeps_the_first_time(
    client: TestClient, enterprise: Org, recipients: Recipients, frozen_clock: Any
) -> None:
    report = post_report(client, enterprise).json()
    delivery = delivery_to(client, recipients.police, report, "email")
    url = f"/api/v1/notifications/{delivery['id']}/acknowledge"
    first = client.post(url, headers=recipients.police.headers).json()["acknowledged_at"]

    frozen_clock.advance(timedelta(hours=1))
    again = client.post(url, headers=recipients.police.headers)

    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == first
    assert len(audit("delivery.acknowledged")) == 1


def test_acknowledgement_is_audited(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()
    delivery = delivery_to(client, recipients.police, report, "email")

    client.post(
        f"/api/v1/notifications/{delivery['id']}/acknowledge", headers=recipients.police.headers
    )

    [event] = audit("delivery.acknowledged")
    assert event.object_type == "delivery"
    assert event.object_id == delivery["id"]
    assert str(event.actor_organisation_id) == recipients.police.id


def test_only_the_recipient_may_acknowledge(
    client: TestClient, admin: Org, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()
    delivery = delivery_to(client, recipients.police, report, "email")
    url = f"/api/v1/notifications/{delivery['id']}/acknowledge"

    for other in (recipients.inspectorate, enterprise, admin):
        response = client.post(url, headers=other.headers)
        assert response.status_code == 404, other.kind
    assert delivery_to(client, recipients.police, report, "email")["acknowledged_at"] is None
    assert audit("delivery.acknowledged") == []


def test_acknowledging_an_unknown_notification_is_not_found(
    client: TestClient, recipients: Recipients
) -> None:
    response = client.post(
        "/api/v1/notifications/5b0c3f0e-6d3a-4d0e-9f55-5f4b8c1d2e3f/acknowledge",
        headers=recipients.police.headers,
    )
    assert response.status_code == 404


def test_acknowledgement_needs_an_api_key(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()
    delivery = delivery_to(client, recipients.police, report, "email")

    response = client.post(f"/api/v1/notifications/{delivery['id']}/acknowledge")

    assert response.status_code == 401


# -- Undelivered notifications and manual retry ----------------------------------------------


def fail_police_webhook(client: TestClient, enterprise: Org, receiver: Receiver) -> Any:
    receiver.reply("/police", Reply(410))
    report = post_report(client, enterprise).json()
    drain()
    [failed] = [d for d in deliveries(report["id"]) if d.status == "failed"]
    return report, failed


def test_inspectorate_lists_failed_and_unroutable_notifications(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    report, failed = fail_police_webhook(client, enterprise, receiver)
    other = post_report(client, enterprise, report_body(commune_code="24184")).json()

    response = client.get(
        "/api/v1/notifications/undelivered", headers=recipients.inspectorate.headers
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["status"], i["reference"]) for i in items] == [
        ("unroutable", other["reference"]),
        ("failed", report["reference"]),
    ]
    assert items[1]["id"] == str(failed.id)
    assert items[1]["report_id"] == report["id"]
    assert items[1]["event_type"] == "report.created"


def test_undelivered_notifications_are_paginated_and_filtered(
    client: TestClient, admin: Org, enterprise: Org, recipients: Recipients
) -> None:
    for _ in range(3):
        post_report(client, enterprise, report_body(commune_code="24184"))

    first = client.get(
        "/api/v1/notifications/undelivered?limit=2&status=unroutable", headers=admin.headers
    ).json()
    second = client.get(
        f"/api/v1/notifications/undelivered?limit=2&status=unroutable&cursor={first['next_cursor']}",
        headers=admin.headers,
    ).json()

    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 3
    failed_only = client.get(
        "/api/v1/notifications/undelivered?status=failed", headers=admin.headers
    ).json()
    assert failed_only["items"] == []


def test_other_roles_may_not_list_undelivered_notifications(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    for org in (enterprise, recipients.police):
        response = client.get("/api/v1/notifications/undelivered", headers=org.headers)
        assert response.status_code == 403


def test_a_failed_notification_can_be_retried(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    report, failed = fail_police_webhook(client, enterprise, receiver)

    response = client.post(
        f"/api/v1/notifications/{failed.id}/retry", headers=recipients.inspectorate.headers
    )

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    drain()
    [delivery] = [d for d in deliveries(report["id"]) if d.id == failed.id]
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    [event] = audit("delivery.retried")
    assert event.object_id == str(failed.id)


def test_only_a_failed_notification_can_be_retried(
    client: TestClient, admin: Org, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()
    pending = deliveries(report["id"])[0]

    response = client.post(f"/api/v1/notifications/{pending.id}/retry", headers=admin.headers)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_retry_by_other_roles_is_forbidden(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    _, failed = fail_police_webhook(client, enterprise, receiver)

    response = client.post(
        f"/api/v1/notifications/{failed.id}/retry", headers=recipients.police.headers
    )

    assert response.status_code == 403
