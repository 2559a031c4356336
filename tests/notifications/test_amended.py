"""A follow-up report (amendment) is notified like the report itself, saying what changed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from tests.helpers import Org, idem, post_report, report_body, victim
from tests.notifications.conftest import POLICE_EMAIL, Mailbox, Receiver, Recipients, drain


def file_and_amend(client: TestClient, enterprise: Org) -> tuple[dict[str, Any], Any]:
    serious = [victim(outcome="seriously_injured"), victim(outcome="seriously_injured")]
    report = post_report(client, enterprise, report_body(victims=serious)).json()
    victims = [dict(v) for v in report["victims"]]
    victims[0]["outcome"] = "dead"
    amended = client.post(
        f"/api/v1/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, **idem()},
    )
    assert amended.status_code == 201, amended.text
    return report, amended.json()


def test_amendment_email_says_what_changed(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    report, _ = file_and_amend(client, enterprise)

    drain()

    created, amended = sorted(
        smtp.to(POLICE_EMAIL), key=lambda m: "Cập nhật" in m.message["Subject"]
    )
    assert report["reference"] in amended.message["Subject"]
    assert "Cập nhật" in amended.message["Subject"]
    assert "phiên bản 2" in amended.text
    assert "Người bị nạn số 1 – tình trạng: Bị thương nặng → Chết" in amended.text
    assert "Mức độ: Chết người" in amended.text
    assert created.message["Message-ID"] != amended.message["Message-ID"]


def test_amendment_webhook_carries_the_report_and_the_changes(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    report, _ = file_and_amend(client, enterprise)

    drain()

    hooks = [
        Webhook(recipients.police.data["webhook_secret"]).verify(h.body, h.headers)
        for h in receiver.at("/police")
    ]
    [amended] = [h for h in hooks if h["type"] == "report.amended"]
    assert amended["data"]["id"] == report["id"]
    assert amended["data"]["severity"] == "fatal"
    assert amended["data"]["amendment"]["version"] == 2
    assert {"field": "/victims/0/outcome", "from": "seriously_injured", "to": "dead"} in (
        amended["data"]["amendment"]["changes"]
    )
