"""Both channels reach the police of the place and the inspectorate, with the right content."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from app.config import get_settings
from tests.helpers import Org, post_report, report_body
from tests.notifications.conftest import (
    INSPECTORATE_EMAIL,
    POLICE_EMAIL,
    Mailbox,
    Receiver,
    Recipients,
    attempts,
    deliveries,
    drain,
)


def test_report_is_sent_to_police_and_inspectorate_on_every_channel(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox, receiver: Receiver
) -> None:
    report = post_report(client, enterprise).json()

    drain()

    assert sorted(m.recipients[0] for m in smtp.mails) == sorted([POLICE_EMAIL, INSPECTORATE_EMAIL])
    assert sorted(h.path for h in receiver.hooks) == ["/inspectorate", "/police"]
    listed = client.get(
        f"/api/v1/reports/{report['id']}/notifications", headers=enterprise.headers
    ).json()
    assert {(d["recipient"]["id"], d["channel"]) for d in listed} == {
        (recipients.police.id, "email"),
        (recipients.police.id, "webhook"),
        (recipients.inspectorate.id, "email"),
        (recipients.inspectorate.id, "webhook"),
    }
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in listed)
    assert all(d["delivered_at"] is not None for d in listed)


def test_nothing_is_sent_inside_the_request(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox, receiver: Receiver
) -> None:
    report = post_report(client, enterprise).json()

    assert smtp.mails == []
    assert receiver.hooks == []
    assert {d.status for d in deliveries(report["id"])} == {"pending"}


def test_email_gives_the_report_in_vietnamese(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    # Submitted in UTC: the e-mail shows Vietnam time.
    report = post_report(client, enterprise, report_body(occurred_at="2026-11-20T01:30:00Z")).json()

    drain()

    [mail] = smtp.to(POLICE_EMAIL)
    assert report["reference"] in mail.message["Subject"]
    assert mail.message["From"] == "tnld@tnld.test"
    text = mail.text
    for expected in (
        report["reference"],
        "Mức độ: Chết người",
        "08:30 ngày 20/11/2026 (giờ Việt Nam",
        "Địa bàn: Phường Tân Lập, Tỉnh Đắk Lắk (mã 24121)",
        "Công trường nhà ở, 12 Lê Duẩn",
        "Chết: 1 người",
        "Bị thương nặng: 0 người",
        "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
        "Trần Thị B",
        "0912345678",
        "b@example.vn",
    ):
        assert expected in text, expected
    assert "Không thể tự động thông báo" not in text
    # The place as it was on the accident's date, lower case inside a sentence.
    assert "tại phường Tân Lập, tỉnh Đắk Lắk" in mail.message["Subject"]


def test_email_message_id_is_derived_from_the_delivery(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    report = post_report(client, enterprise).json()

    drain()

    [mail] = smtp.to(POLICE_EMAIL)
    [delivery] = [
        d
        for d in deliveries(report["id"])
        if d.channel == "email" and str(d.recipient_id) == recipients.police.id
    ]
    assert mail.message["Message-ID"] == f"<{delivery.id}@tnld.test>"


def test_webhook_is_signed_per_standard_webhooks(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    report = post_report(client, enterprise).json()

    drain()

    [hook] = receiver.at("/police")
    secret = recipients.police.data["webhook_secret"]
    verified = Webhook(secret).verify(hook.body, hook.headers)
    assert verified["type"] == "report.created"
    assert verified["timestamp"].endswith("+07:00")
    assert (
        verified["data"]
        == client.get(f"/api/v1/reports/{report['id']}", headers=enterprise.headers).json()
    )
    assert hook.headers["content-type"] == "application/json"


def test_webhook_id_is_the_delivery_id(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    report = post_report(client, enterprise).json()

    drain()

    webhook_ids = {str(d.id) for d in deliveries(report["id"]) if d.channel == "webhook"}
    assert {h.headers["webhook-id"] for h in receiver.hooks} == webhook_ids


def test_each_attempt_is_recorded(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox, receiver: Receiver
) -> None:
    report = post_report(client, enterprise).json()

    drain()

    for delivery in deliveries(report["id"]):
        [attempt] = attempts(delivery.id)
        assert attempt.outcome == "delivered"
        assert attempt.worker
        assert attempt.response
        assert attempt.duration_ms is not None


def test_without_smtp_host_emails_are_written_as_eml_files(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()

    drain()

    folder = Path(get_settings().mail_dir)
    emails = [d for d in deliveries(report["id"]) if d.channel == "email"]
    # One e-mail to the police of the place and one to the inspectorate, each a file.
    assert {str(d.recipient_id) for d in emails} == {
        recipients.police.id,
        recipients.inspectorate.id,
    }
    for delivery in emails:
        assert delivery.status == "delivered"
        path = folder / f"{delivery.id}.eml"
        written = path.read_bytes()
        assert report["reference"].encode() in written
        # It names the reporter: readable by the service's user only.
        assert path.stat().st_mode & 0o077 == 0
