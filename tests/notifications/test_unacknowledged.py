"""Escalation of silence: a fatal report whose labour-authority notices are not acknowledged
within TNLD_ACK_ESCALATION is sent once more to the same recipients, marked CHƯA XÁC NHẬN
(e-mail subject) and ``report.unacknowledged`` (webhook type), and shows on its notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app import clock
from app.notifications.worker import Worker
from tests.helpers import Org, file_report, serious_victims
from tests.notifications.conftest import (
    INSPECTORATE_EMAIL,
    Mailbox,
    Receiver,
    Recipients,
    drain,
)

API = "/api/v1"


def _notifications(client: TestClient, org: Org, report: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"{API}/reports/{report['id']}/notifications", headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_unacknowledged_fatal_report_is_sent_again_once(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    smtp: Mailbox,
    receiver: Receiver,
    frozen_clock: Any,
) -> None:
    report = file_report(client, enterprise)
    drain()
    clock.freeze(clock.now() + timedelta(hours=2) - timedelta(seconds=1))
    assert Worker().escalate() == 0  # not yet
    clock.freeze(clock.now() + timedelta(seconds=2))
    assert Worker().escalate() == 1
    assert Worker().escalate() == 0  # once
    drain()

    again = [
        n
        for n in _notifications(client, enterprise, report)
        if n["event_type"] == "report.unacknowledged"
    ]
    assert sorted(n["channel"] for n in again) == ["email", "webhook"]
    assert {n["recipient"]["id"] for n in again} == {recipients.inspectorate.id}
    assert all(n["status"] == "delivered" for n in again)

    mails = smtp.to(INSPECTORATE_EMAIL)
    assert len(mails) == 2
    assert "CHƯA XÁC NHẬN" in str(mails[-1].message["Subject"])
    assert "CHƯA XÁC NHẬN" not in str(mails[0].message["Subject"])
    hooks = receiver.at("/inspectorate")
    assert [h.json["type"] for h in hooks] == ["report.created", "report.unacknowledged"]
    assert hooks[1].json["data"]["reference"] == report["reference"]
    assert len(receiver.at("/police")) == 1  # the police are not escalated to


def test_an_acknowledged_report_is_not_sent_again(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    drain()
    mine = [
        n
        for n in _notifications(client, recipients.inspectorate, report)
        if n["recipient"]["id"] == recipients.inspectorate.id
    ]
    acknowledged = client.post(
        f"{API}/notifications/{mine[0]['id']}/acknowledge", headers=recipients.inspectorate.headers
    )
    assert acknowledged.status_code == 200, acknowledged.text
    clock.freeze(clock.now() + timedelta(hours=3))
    assert Worker().escalate() == 0


def test_a_report_without_deaths_is_not_escalated(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox, frozen_clock: Any
) -> None:
    file_report(client, enterprise, victims=serious_victims(2))
    drain()
    clock.freeze(clock.now() + timedelta(hours=3))
    assert Worker().escalate() == 0


def test_the_delay_is_a_setting(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    smtp: Mailbox,
    configure: Any,
    frozen_clock: Any,
) -> None:
    configure(ack_escalation="30m")
    file_report(client, enterprise)
    drain()
    clock.freeze(clock.now() + timedelta(minutes=31))
    assert Worker().escalate() == 1
